/**
 * A world's 64-bit fingerprint. Its definition ({@link WorldFingerprints.ofPacked}) reads the
 * packed world: on the set and bag networks it is the sum of component hashes — each node's
 * packed state seeded with its id and crash flag, each envelope record with its count — plus
 * the clock and crash counters, xored with the history's hash, then finished; on FIFO networks
 * (where the order of a link matters) it is the hash of the packed bytes.
 *
 * Order-free sums let a successor re-hash only what changed: {@link WorldFingerprints.of}
 * computes the same value from a decoded world and the component hashes it carries, and the
 * fast successor layer from a parent's fingerprint and a remembered handler outcome.
 * checker/fast-fingerprint.test.ts and the differential test hold them to this definition.
 */
import { Reader, Writer } from '../specs/core/bytes.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { Clients } from './clients.ts';
import { finishSum, hash64 } from './fingerprint.ts';
import type { WorldCodec } from './world-codec.ts';
import { UNCHANGED, type WorldState } from './world-state.ts';

/** Seeds a node's component hash with its position and crash flag. */
export function nodeSeed(id: NodeId, crashed: number): number {
  return Math.imul(id + 1, 0x9e3779b1) ^ (crashed ? 0x7f4a7c15 : 0);
}

/** The seed of the history's hash. */
const HISTORY_SEED = 0x5eed;
const hash = hash64;

export class WorldFingerprints {
  private readonly lanes = new Int32Array(2);
  private readonly scratch = new Writer(256);

  constructor(
    private readonly nodeCount: number,
    private readonly codec: WorldCodec,
    private readonly clients: Clients | null,
    /** FIFO networks: the hash of the packed bytes. */
    private readonly ordered: boolean,
    /** The packed world carries clock offsets and envelope counts. */
    private readonly offsets: boolean,
    private readonly counted: boolean,
  ) {}

  /** The definition: the fingerprint of a packed world, into `out`. */
  ofPacked(buf: Uint8Array, out: Uint32Array): void {
    const h = this.lanes;
    if (this.ordered) {
      hash(buf, 0, buf.length, 0, h);
      finishSum(h[0]!, h[1]!, out);
      return;
    }
    const r = new Reader(buf);
    const time = r.varint();
    const crashes = r.varint();
    const offsets = new Int8Array(this.nodeCount);
    if (this.offsets) for (let id = 0; id < this.nodeCount; id++) offsets[id] = (r.u8() << 24) >> 24;
    this.clockLanesOf(time, crashes, offsets);
    let hi = h[0]!;
    let lo = h[1]!;
    for (let id = 0; id < this.nodeCount; id++) {
      const flag = r.u8();
      const len = r.length();
      hash(buf, r.pos, len, nodeSeed(id, flag), h);
      r.pos += len;
      hi = (hi + h[0]!) | 0;
      lo = (lo + h[1]!) | 0;
    }
    const count = r.length();
    for (let i = 0; i < count; i++) {
      const len = r.length();
      const start = r.pos;
      r.pos += len;
      hash(buf, start, len, this.counted ? r.varint() : 1, h);
      hi = (hi + h[0]!) | 0;
      lo = (lo + h[1]!) | 0;
    }
    // The history section is a length-prefixed array: a single 0 byte when empty, which adds nothing.
    if (this.clients && !(buf.length - r.pos === 1 && buf[r.pos] === 0)) {
      hash(buf, r.pos, buf.length - r.pos, HISTORY_SEED, h);
      hi ^= h[0]!;
      lo ^= h[1]!;
    }
    finishSum(hi, lo, out);
  }

  /**
   * The same fingerprint from a decoded world: from the component hashes it was decoded with
   * (a parent's sum, minus the nodes that changed, plus their new hashes), else from scratch.
   */
  of(s: WorldState, out: Uint32Array): void {
    const h = this.lanes;
    if (this.ordered) {
      const len = this.codec.encodeInto(s);
      hash(this.codec.packedBuffer, 0, len, 0, h);
      finishSum(h[0]!, h[1]!, out);
      return;
    }
    this.clockLanes(s);
    let hi = h[0]!;
    let lo = h[1]!;
    const sw = this.scratch;
    const base = s.nodeHi;
    if (base !== null) {
      hi = (hi + s.nodeSumHi) | 0;
      lo = (lo + s.nodeSumLo) | 0;
    }
    for (let id = 0; id < this.nodeCount; id++) {
      const cached = s.nodeBytes[id];
      if (cached === UNCHANGED) continue;
      if (base !== null) {
        hi = (hi - base[id]!) | 0;
        lo = (lo - s.nodeLo![id]!) | 0;
      }
      if (cached !== null) {
        hash(cached, 0, cached.length, nodeSeed(id, s.crashed[id]!), h);
      } else {
        sw.reset();
        this.codec.encodeNodeState(sw, id, s.nodes[id]);
        hash(sw.buf, 0, sw.pos, nodeSeed(id, s.crashed[id]!), h);
      }
      hi = (hi + h[0]!) | 0;
      lo = (lo + h[1]!) | 0;
    }
    const net = s.net;
    if (net === s.netBase) {
      hi = (hi + s.netSumHi) | 0;
      lo = (lo + s.netSumLo) | 0;
    } else {
      for (let i = 0; i < net.length; i++) {
        hi = (hi + net[i]!.hHi) | 0;
        lo = (lo + net[i]!.hLo) | 0;
      }
    }
    this.historyLanes(s);
    finishSum((hi ^ h[0]!) | 0, (lo ^ h[1]!) | 0, out);
  }

  /** The component of the clock and crash counters, into `lanes` (read right after). */
  clockLanes(s: WorldState): Int32Array {
    return this.clockLanesOf(s.time, s.crashes, s.offsets);
  }

  private clockLanesOf(time: number, crashes: number, offsets: Int8Array): Int32Array {
    let hi = (Math.imul(time, 0x27d4eb2f) + Math.imul(crashes + 1, 0x165667b1)) | 0;
    let lo = (Math.imul(time + 7, 0x9e3779b1) ^ Math.imul(crashes, 0x85ebca77)) | 0;
    if (this.offsets) {
      for (let id = 0; id < this.nodeCount; id++) {
        hi = (hi + Math.imul(offsets[id]! + 128, 0x2545f491 + id)) | 0;
        lo = (lo ^ Math.imul(offsets[id]! + 131 + id, 0x61c88647)) | 0;
      }
    }
    this.lanes[0] = hi;
    this.lanes[1] = lo;
    return this.lanes;
  }

  /** The component of the client history (xored in; zero when empty), into `lanes` (read right after). */
  historyLanes(s: WorldState): Int32Array {
    const h = this.lanes;
    if (this.clients && s.history.length > 0) {
      const sw = this.scratch.reset();
      this.clients.history.encode(sw, s.history, 'history');
      hash(sw.buf, 0, sw.pos, HISTORY_SEED, h);
    } else {
      h[0] = 0;
      h[1] = 0;
    }
    return h;
  }
}
