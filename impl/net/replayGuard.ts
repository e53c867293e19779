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
 *   was sent more than `maxClockSkewMs` before the receiver started is dropped too: the receiver
 *   has no window from before its start, and such a frame can only be a replay (or a sender whose
 *   clock lags by more than that: keep the cluster's clocks within `maxClockSkewMs`).
 *
 * Limitations: a frame replayed before the original arrives makes the original the "replay"
 * (dropped: a lost message, which the protocols tolerate); a sender whose wall clock steps back
 * across its own restart is dropped as replaying until its clock passes the old readings.
 */
export const SEQ_PER_MS = 1024;

/** Options of {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /** Accepted frames remembered per sender below the highest one (reordering tolerated). Default 4096. */
  readonly windowFrames?: number;
  /** How far a sender's clock may lag this node's, ms. Default 60,000. */
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
    const skew = options.maxClockSkewMs ?? 60_000;
    requireInt('ReplayGuard', 'maxClockSkewMs', skew, 0, 2 ** 40);
    this.#floor = Math.max(0, ((options.nowMs ?? Date.now)() - skew) * SEQ_PER_MS);
  }

  /** Whether a frame from `from` with `seq` is new (and remembers it); false for a replay. */
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

  next(to: NodeId): number {
    const seq = Math.max((this.#last.get(to) ?? -1) + 1, this.#nowMs() * SEQ_PER_MS);
    this.#last.set(to, seq);
    return seq;
  }
}
