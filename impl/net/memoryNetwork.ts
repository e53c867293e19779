import type { Clock } from '../clock/clock.ts';
import { systemClock } from '../clock/systemClock.ts';
import { FrameCodec, type Frame, type FrameCodecOptions, type NodeId } from './frame.ts';
import { FrameError } from './frameError.ts';
import { xoshiro128ss, type Prng } from './prng.ts';
import { FrameHandlers, copyStats, emptyStats, type FrameHandler, type Transport, type TransportStats } from './transport.ts';
import { UsageError, requireInt, requireNumber } from './usageError.ts';

/** Faults injected by a {@link MemoryNetwork}; all default to none. */
export interface MemoryFaults {
  /** Probability in [0, 1] that a frame is lost. */
  readonly lossRate?: number;
  /** Probability in [0, 1] that a frame is delivered twice (each copy with its own delay). */
  readonly duplicateRate?: number;
  /** Probability in [0, 1] that one byte of a frame is altered in transit (the receiver's tag check drops it). */
  readonly corruptRate?: number;
  /** Delivery delay range in ms, drawn uniformly per copy; frames reorder when it is wide. */
  readonly delayMsMin?: number;
  readonly delayMsMax?: number;
}

/** Options of {@link MemoryNetwork}. */
export interface MemoryNetworkOptions extends FrameCodecOptions, MemoryFaults {
  /** Seed of the fault PRNG: the same seed and the same sends give the same faults. */
  readonly seed: number;
  /**
   * Schedules deliveries. Default {@link systemClock}. With a simulated clock nothing is delivered
   * until the test advances it, and the whole run is deterministic.
   */
  readonly clock?: Clock<unknown>;
  /**
   * `scheduled` (default): frames land by themselves after their delay, faults applied.
   * `manual`: frames wait in {@link MemoryNetwork.inFlight} until the driver delivers or drops each
   * one (executor replay of a trace's deliver / drop / duplicate events); faults must be left unset.
   */
  readonly delivery?: 'scheduled' | 'manual';
}

/** A frame waiting in a manual network. */
export interface InFlightFrame {
  /** Handle for {@link MemoryNetwork.deliver} and {@link MemoryNetwork.drop}; unique per network. */
  readonly id: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly kind: number;
  readonly seq: number;
  readonly payload: Buffer;
}

interface Waiting {
  readonly from: MemoryTransport;
  readonly to: NodeId;
  readonly bytes: Buffer;
}

interface QualifiedFaults {
  lossRate: number;
  duplicateRate: number;
  corruptRate: number;
  delayMsMin: number;
  delayMsMax: number;
}

/**
 * An in-process network with seeded fault injection. Frames are really encoded, authenticated and
 * decoded, so the memory transport exercises the same bytes as udp and tcp. Faults are decided at
 * send time; a partition also drops frames already in flight on the blocked link when they land.
 */
export class MemoryNetwork {
  readonly seed: number;
  readonly codec: FrameCodec;
  readonly #clock: Clock<unknown>;
  readonly #prng: Prng;
  readonly #nodes = new Map<NodeId, MemoryTransport>();
  readonly #blocked = new Set<string>();
  readonly #manual: boolean;
  readonly #waiting = new Map<number, Waiting>();
  #scheduled = 0;
  #nextId = 0;
  #faults: QualifiedFaults;

  constructor(options: MemoryNetworkOptions) {
    requireInt('MemoryNetwork', 'seed', options.seed, -(2 ** 31), 2 ** 32 - 1);
    this.seed = options.seed;
    this.codec = new FrameCodec(options);
    this.#clock = options.clock ?? systemClock();
    this.#prng = xoshiro128ss(options.seed);
    this.#faults = qualifyFaults('MemoryNetwork', options, {
      lossRate: 0,
      duplicateRate: 0,
      corruptRate: 0,
      delayMsMin: 0,
      delayMsMax: 0,
    });
    const delivery = options.delivery ?? 'scheduled';
    if (delivery !== 'scheduled' && delivery !== 'manual') {
      throw new UsageError('MemoryNetwork', 'bad-delivery', `delivery must be scheduled or manual, got ${String(delivery)}`);
    }
    this.#manual = delivery === 'manual';
    this.#checkManualFaults('MemoryNetwork');
  }

  /** Frames scheduled for delivery that have not landed yet (scheduled delivery; manual: see {@link inFlight}). */
  get deliveriesPending(): number {
    return this.#scheduled;
  }

  /** Frames waiting for the driver, oldest first (manual delivery only; empty otherwise). */
  inFlight(): InFlightFrame[] {
    const frames: InFlightFrame[] = [];
    for (const [id, w] of this.#waiting) {
      // Encoded by this network with its own key: decoding cannot fail.
      const f = this.codec.decode(w.bytes);
      frames.push({ id, from: f.from, to: f.to, kind: f.kind, seq: f.seq, payload: f.payload });
    }
    return frames;
  }

  /**
   * Delivers a waiting frame now, synchronously (the receiver's handlers run before this returns).
   * `consume: false` leaves it waiting, for a network where a sent message may be delivered again
   * (the model's `set` network). A partition or a detached receiver drops it, as in scheduled mode.
   */
  deliver(id: number, options: { readonly consume?: boolean } = {}): void {
    const w = this.#take('MemoryNetwork.deliver', id, options.consume ?? true);
    this.#land(w.from, w.to, w.bytes);
  }

  /** Drops a waiting frame (counted as `loss` at its sender). */
  drop(id: number): void {
    this.#take('MemoryNetwork.drop', id, true).from.liveStats.dropped.loss++;
  }

  #take(fn: string, id: number, consume: boolean): Waiting {
    if (!this.#manual) throw new UsageError(fn, 'not-manual', 'the network was not made with delivery: manual');
    const w = this.#waiting.get(id);
    if (!w) throw new UsageError(fn, 'unknown-frame', `no frame ${id} is waiting`);
    if (consume) this.#waiting.delete(id);
    return w;
  }

  #checkManualFaults(fn: string): void {
    const f = this.#faults;
    if (this.#manual && (f.lossRate > 0 || f.duplicateRate > 0 || f.corruptRate > 0 || f.delayMsMax > 0)) {
      throw new UsageError(fn, 'faults-in-manual-mode', 'a manual network takes no faults: the driver decides each delivery');
    }
  }

  /** The faults in force. */
  get faults(): Readonly<QualifiedFaults> {
    return { ...this.#faults };
  }

  /** Changes some faults from now on (frames in flight keep theirs). */
  setFaults(faults: MemoryFaults): void {
    const previous = this.#faults;
    this.#faults = qualifyFaults('MemoryNetwork.setFaults', faults, this.#faults);
    try {
      this.#checkManualFaults('MemoryNetwork.setFaults');
    } catch (e) {
      this.#faults = previous;
      throw e;
    }
  }

  /**
   * Attaches node `self` and returns its transport. Throws `MemoryNetwork.transport/duplicate-node`
   * if that node is attached (close the old transport first, e.g. to simulate a restart).
   */
  transport(self: NodeId): Transport {
    requireInt('MemoryNetwork.transport', 'self', self, 0, 0xffff_ffff);
    if (this.#nodes.has(self)) throw new UsageError('MemoryNetwork.transport', 'duplicate-node', `node ${self} is already attached`);
    const t = new MemoryTransport(this, self);
    this.#nodes.set(self, t);
    return t;
  }

  /** Blocks every link between a node of `a` and a node of `b`, both ways, until healed. */
  partition(a: NodeId | readonly NodeId[], b: NodeId | readonly NodeId[]): void {
    for (const x of toList(a)) for (const y of toList(b)) if (x !== y) this.#blocked.add(linkKey(x, y));
  }

  /** Unblocks the links between `a` and `b`; with no arguments, every link. */
  heal(a?: NodeId | readonly NodeId[], b?: NodeId | readonly NodeId[]): void {
    if (a === undefined || b === undefined) {
      this.#blocked.clear();
      return;
    }
    for (const x of toList(a)) for (const y of toList(b)) this.#blocked.delete(linkKey(x, y));
  }

  /** Whether frames between `a` and `b` are blocked. */
  isPartitioned(a: NodeId, b: NodeId): boolean {
    return this.#blocked.has(linkKey(a, b));
  }

  /** @internal Called by a transport's send: applies faults and schedules deliveries. */
  route(from: MemoryTransport, to: NodeId, frame: Buffer): void {
    const f = this.#faults;
    const stats = from.liveStats;
    stats.framesSent++;
    stats.bytesSent += frame.length;
    if (this.#blocked.has(linkKey(from.self, to))) {
      stats.dropped.partition++;
      return;
    }
    if (this.#manual) {
      stats.packetsSent++;
      this.#waiting.set(this.#nextId++, { from, to, bytes: frame });
      return;
    }
    if (f.lossRate > 0 && this.#prng.nextFloat() < f.lossRate) {
      stats.dropped.loss++;
      return;
    }
    const copies = f.duplicateRate > 0 && this.#prng.nextFloat() < f.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let bytes = frame;
      if (f.corruptRate > 0 && this.#prng.nextFloat() < f.corruptRate) {
        bytes = Buffer.from(frame);
        bytes[this.#prng.nextInt(0, bytes.length - 1)]! ^= this.#prng.nextInt(1, 255);
      }
      const delayMs = f.delayMsMax > f.delayMsMin ? f.delayMsMin + this.#prng.nextFloat() * (f.delayMsMax - f.delayMsMin) : f.delayMsMin;
      stats.packetsSent++;
      this.#scheduled++;
      this.#clock.setTimer(delayMs, () => {
        this.#scheduled--;
        this.#land(from, to, bytes);
      });
    }
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    if (this.#nodes.get(t.self) === t) this.#nodes.delete(t.self);
  }

  #land(from: MemoryTransport, to: NodeId, bytes: Buffer): void {
    if (this.#blocked.has(linkKey(from.self, to))) {
      from.liveStats.dropped.partition++;
      return;
    }
    const receiver = this.#nodes.get(to);
    if (!receiver) {
      from.liveStats.dropped.unreachable++;
      return;
    }
    receiver.receive(bytes);
  }
}

class MemoryTransport implements Transport {
  readonly self: NodeId;
  readonly liveStats: TransportStats = emptyStats();
  readonly #network: MemoryNetwork;
  readonly #handlers = new FrameHandlers();
  readonly #seq = new Map<NodeId, number>();
  #closed = false;

  constructor(network: MemoryNetwork, self: NodeId) {
    this.#network = network;
    this.self = self;
  }

  get stats(): TransportStats {
    return copyStats(this.liveStats);
  }

  get payloadBytesMax(): number {
    return this.#network.codec.payloadBytesMax;
  }

  send(to: NodeId, kind: number, payload: Uint8Array): void {
    if (this.#closed) throw new UsageError('memoryTransport.send', 'closed', 'the transport is closed');
    requireInt('memoryTransport.send', 'to', to, 0, 0xffff_ffff);
    const seq = this.#seq.get(to) ?? 0;
    this.#seq.set(to, seq + 1);
    this.#network.route(this, to, this.#network.codec.encode({ kind, from: this.self, to, seq }, payload));
  }

  onFrame(handler: FrameHandler): () => void {
    return this.#handlers.add(handler);
  }

  receive(bytes: Buffer): void {
    let frame: Frame;
    try {
      frame = this.#network.codec.decode(bytes);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      this.liveStats.dropped[e.code]++;
      return;
    }
    if (frame.to !== this.self) {
      this.liveStats.dropped.misrouted++;
      return;
    }
    this.liveStats.framesReceived++;
    this.liveStats.bytesReceived += bytes.length;
    this.#handlers.emit(frame);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#network.detach(this);
  }
}

function qualifyFaults(fn: string, f: MemoryFaults, base: QualifiedFaults): QualifiedFaults {
  const q: QualifiedFaults = {
    lossRate: f.lossRate ?? base.lossRate,
    duplicateRate: f.duplicateRate ?? base.duplicateRate,
    corruptRate: f.corruptRate ?? base.corruptRate,
    delayMsMin: f.delayMsMin ?? base.delayMsMin,
    delayMsMax: f.delayMsMax ?? base.delayMsMax,
  };
  requireNumber(fn, 'lossRate', q.lossRate, 0, 1);
  requireNumber(fn, 'duplicateRate', q.duplicateRate, 0, 1);
  requireNumber(fn, 'corruptRate', q.corruptRate, 0, 1);
  requireNumber(fn, 'delayMsMin', q.delayMsMin, 0, 2 ** 31 - 1);
  requireNumber(fn, 'delayMsMax', q.delayMsMax, q.delayMsMin, 2 ** 31 - 1);
  return q;
}

function toList(x: NodeId | readonly NodeId[]): readonly NodeId[] {
  return typeof x === 'number' ? [x] : x;
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

