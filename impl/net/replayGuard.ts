import { UsageError, requireInt } from './usageError.ts';
import type { NodeId } from './frame.ts';

/**
 * Replay protection for the socket transports (udp, tcp). Frames are authenticated with the cluster
 * key, so an attacker cannot forge one, but could re-send one it captured. Against that:
 *
 * - **Sender.** The frame's `seq` (per destination) is a clock-based counter:
 *   `seq = max(previous + 1, wallMs · 1024)`. It strictly increases within a transport's life, and
 *   a restarted sender starts above everything it sent before (its clock moved on), so receivers
 *   need no handshake to tell a new incarnation from a replay. (2^53 / 1024 ms lasts until the
 *   year 2248; a sender faster than 1,024 frames per ms per peer runs ahead of its clock, which is
 *   harmless.)
 * - **Receiver.** Per sender, the highest `seq` accepted and the last `windowFrames` accepted
 *   below it: a frame is accepted once if it is above the highest or inside the window; a `seq`
 *   seen before, or older than the window, is dropped as `replayed`. A frame whose `seq` says it
 *   was sent before the receiver started (less `maxClockSkewMs`, 0 by default) is `stale`: the
 *   receiver has no window from before its start, so such a frame may be a replay of one its
 *   previous incarnation accepted (or one in flight across its restart, or from a sender whose
 *   clock lags). A 60 s allowance here used to let a frame captured up to a minute before a
 *   restart be replayed after it.
 * - **A lagging sender catches up.** A sender learns each peer's clock from the `seq` of every
 *   authentic frame it gets from that peer ({@link SeqClock.observe}): its next `seq` to that peer
 *   is above it, hence above the peer's start. The transports answer a stale frame with an empty
 *   control frame ({@link FRESH_KIND}, rate-limited) so that a sender that has heard nothing from
 *   a restarted peer learns its clock too: a lagging clock costs a round trip, not an outage.
 *
 * Limitations: a frame replayed before the original arrives makes the original the "replay"
 * (dropped: a lost message, which the protocols tolerate); a sender whose wall clock steps back
 * across its own restart is dropped as replaying until its clock passes the old readings; a
 * sender whose clock runs ahead of a receiver's by d leaves the frames it sent in the last d
 * before the receiver's restart replayable after it (keep clocks synchronized).
 */
export const SEQ_PER_MS = 1024;

/**
 * The channel byte of the control frame a transport sends back for a stale frame: empty, it
 * carries only its `seq` (the sender's clock), which the receiver observes. Transport-internal:
 * never handed to the runtime.
 */
export const FRESH_KIND = 0xfd;

/** Least time between two {@link FRESH_KIND} answers to one peer, ms. */
export const FRESH_INTERVAL_MS = 100;

/** Options of {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /** Accepted frames remembered per sender below the highest one (reordering tolerated). Default 4096. */
  readonly windowFrames?: number;
  /**
   * How far before this node's start a frame may be stamped and still be accepted, ms. Default 0:
   * a frame stamped before the start is `stale` (a lagging sender learns this node's clock; see above).
   */
  readonly maxClockSkewMs?: number;
  /** Wall clock, ms (tests). Default `Date.now`. */
  readonly nowMs?: () => number;
}

interface Window {
  high: number;
  /** Accepted seqs, ascending, at most `windowFrames`. */
  recent: number[];
}

/** The receiver's side: one window per sender. */
export class ReplayGuard {
  readonly #windowFrames: number;
  readonly #floor: number;
  readonly #windows = new Map<NodeId, Window>();

  constructor(options: ReplayGuardOptions = {}) {
    this.#windowFrames = options.windowFrames ?? 4096;
    requireInt('ReplayGuard', 'windowFrames', this.#windowFrames, 1, 1 << 20);
    const skew = options.maxClockSkewMs ?? 0;
    requireInt('ReplayGuard', 'maxClockSkewMs', skew, 0, 2 ** 40);
    this.#floor = Math.max(0, ((options.nowMs ?? Date.now)() - skew) * SEQ_PER_MS);
  }

  /** Whether `seq` was stamped before this node started (see {@link ReplayGuard}): `accept` refuses it. */
  stale(seq: number): boolean {
    return seq < this.#floor;
  }

  /** Whether a frame from `from` with `seq` is new (and remembers it); false for a replay or a stale frame. */
  accept(from: NodeId, seq: number): boolean {
    if (seq < this.#floor) return false;
    let w = this.#windows.get(from);
    if (!w) {
      w = { high: seq, recent: [seq] };
      this.#windows.set(from, w);
      return true;
    }
    if (seq > w.high) {
      w.high = seq;
      w.recent.push(seq);
      if (w.recent.length > this.#windowFrames) w.recent.shift();
      return true;
    }
    const recent = w.recent;
    if (recent.length >= this.#windowFrames && seq < recent[0]!) return false; // older than the window
    // Binary search: seen before?
    let lo = 0;
    let hi = recent.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recent[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    if (recent[lo] === seq) return false;
    recent.splice(lo, 0, seq);
    if (recent.length > this.#windowFrames) recent.shift();
    return true;
  }
}

/** The sender's side: the next `seq` per destination. */
export class SeqClock {
  readonly #last = new Map<NodeId, number>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    if (typeof nowMs !== 'function') throw new UsageError('SeqClock', 'bad-clock', 'nowMs must be a function');
    this.#nowMs = nowMs;
  }

  /**
   * Takes note of `seq`, read from an authentic frame of `peer`: it is the peer's clock (or older,
   * for a replay), so the next `seq` to the peer is above it, and above the peer's start.
   */
  observe(peer: NodeId, seq: number): void {
    if (seq > (this.#last.get(peer) ?? -1)) this.#last.set(peer, seq);
  }

  next(to: NodeId): number {
    const seq = Math.max((this.#last.get(to) ?? -1) + 1, this.#nowMs() * SEQ_PER_MS);
    this.#last.set(to, seq);
    return seq;
  }
}

/** When to answer a peer's stale frame with a {@link FRESH_KIND} frame: at most once per {@link FRESH_INTERVAL_MS}. */
export class FreshAnswers {
  readonly #lastMs = new Map<NodeId, number>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.#nowMs = nowMs;
  }

  /** Whether to answer `peer` now (and remembers that it was). */
  due(peer: NodeId): boolean {
    const now = this.#nowMs();
    const last = this.#lastMs.get(peer);
    if (last !== undefined && now - last < FRESH_INTERVAL_MS) return false;
    this.#lastMs.set(peer, now);
    return true;
  }
}
