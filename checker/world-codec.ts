/**
 * The packed, canonical form of a world: the bytes the frontier holds, trace fingerprints hash,
 * and workers exchange. Layout (varints unless noted):
 *   time, crashes used, per-node clock offsets (u8, zigzag-free two's complement; only when
 *   clockError > 0),
 *   per node: crashed (u8), length, state bytes,
 *   envelope count, per envelope: length, [from, to, channel (u8), payload bytes], count (bag only),
 *   and, when the protocol has clients, the history (invocations and returns, in order).
 * Envelopes are sorted by their bytes (set, bag) or grouped by link in send order (fifo), so
 * equal worlds give equal bytes.
 *
 * Packing copies unchanged node sections and the network section from the packed world a state
 * was decoded from; decoding shares decoded node states and networks through byte-keyed caches
 * (they are immutable values). {@link WorldCodec.decodePlain} decodes without any cache, for
 * the reference semantics.
 */
import { DecodeError, Reader, Writer } from '../specs/core/bytes.ts';
import type { Layout } from '../specs/core/layout.ts';
import type { NodeId } from '../specs/core/schema.ts';
import { HandlerError } from '../specs/core/step.ts';
import type { Clients } from './clients.ts';
import type { Envelopes } from './envelopes.ts';
import { hash64 } from './fingerprint.ts';
import { HitTrial } from './hit-trial.ts';
import type { Network } from './network.ts';
import { nodeSeed } from './world-fingerprint.ts';
import { NO_SOURCE, UNCHANGED, type Envelope, type HistoryEvent, type WorldState } from './world-state.ts';

/** A decoded network section: its interned envelopes and their hash sum. */
interface NetEntry {
  net: Envelope[];
  hi: number;
  lo: number;
}

const NO_HISTORY: readonly HistoryEvent[] = [];
/** Bound locally: calls through an imported binding cost a getter under some loaders. */
const hash = hash64;

export class WorldCodec {
  private readonly writer = new Writer(1024);
  private readonly nodeCount: number;
  private readonly offsets: boolean;
  private readonly nodeReader = new Reader(new Uint8Array(0));
  private readonly worldReader = new Reader(new Uint8Array(0));
  private readonly netReader = new Reader(new Uint8Array(0));
  private readonly lanes = new Int32Array(2);
  private readonly netCache = new BytesCache<NetEntry>(1 << 14);
  /** Decoded states by their bytes, per role. */
  private readonly decoded: Map<string, BytesCache<unknown>> = new Map();
  /** The sections of the world decoded last, with what they decoded to (see `decode`). */
  private readonly last: LastDecoded;
  /** Arrays reused by `decode(buf, true)`: the exhaustive loop's parent dies with its expansion. */
  private readonly scratch: {
    offsets: Int8Array; crashed: Uint8Array; nodes: unknown[]; nodeBytes: (Uint8Array | null)[];
    nodeAt: Int32Array; nodeHi: Int32Array; nodeLo: Int32Array;
  };

  constructor(
    private readonly layout: Layout,
    private readonly envelopes: Envelopes,
    private readonly network: Network,
    private readonly clients: Clients | null,
    clockError: number,
  ) {
    const n = (this.nodeCount = layout.nodeCount);
    this.offsets = clockError > 0;
    for (const r of layout.roles) this.decoded.set(r.name, new BytesCache(1 << 12));
    this.last = new LastDecoded(n);
    this.scratch = {
      offsets: new Int8Array(n), crashed: new Uint8Array(n), nodes: new Array(n), nodeBytes: new Array(n),
      nodeAt: new Int32Array(n + 1), nodeHi: new Int32Array(n), nodeLo: new Int32Array(n),
    };
  }

  /** Packs a world into the shared writer; returns a view valid until the next encode. */
  encode(s: WorldState): Uint8Array {
    return this.writer.buf.subarray(0, this.encodeInto(s));
  }

  /** The writer's buffer after {@link encodeInto} (valid until the next encode). */
  get packedBuffer(): Uint8Array {
    return this.writer.buf;
  }

  /**
   * Packs a world into the shared writer ({@link packedBuffer}) and returns its length.
   * Unchanged node sections and envelope records are copied from the packed world they were
   * decoded from, in runs, so a successor that changed one node costs a few memory copies.
   */
  encodeInto(s: WorldState): number {
    const w = this.writer.reset();
    w.varint(s.time);
    w.varint(s.crashes);
    if (this.offsets) for (let id = 0; id < this.nodeCount; id++) w.u8(s.offsets[id]! & 0xff);
    const src = s.src;
    const at = s.nodeAt;
    let runFrom = 0;
    let runTo = -1;
    for (let id = 0; id < this.nodeCount; id++) {
      const cached = s.nodeBytes[id];
      if (cached === UNCHANGED) {
        const a = at![id]!;
        if (a === runTo) {
          runTo = at![id + 1]!;
        } else {
          if (runTo >= 0) w.range(src!, runFrom, runTo - runFrom);
          runFrom = a;
          runTo = at![id + 1]!;
        }
        continue;
      }
      if (runTo >= 0) {
        w.range(src!, runFrom, runTo - runFrom);
        runTo = -1;
      }
      w.u8(s.crashed[id]!);
      if (cached !== null) {
        w.varint(cached.length);
        w.bytes(cached);
      } else {
        this.encodeNodeFramed(w, id, s.nodes[id]);
      }
    }
    if (runTo >= 0) w.range(src!, runFrom, runTo - runFrom);
    if (src !== null && s.net === s.netBase) w.range(src, s.netAt, s.netEnd - s.netAt);
    else this.encodeNet(w, s.net);
    if (this.clients) this.clients.history.encode(w, s.history, 'history');
    return w.pos;
  }

  /** Encodes node `id`'s state (no framing); a state that does not fit is the spec's error. */
  encodeNodeState(w: Writer, id: NodeId, state: unknown): void {
    try {
      this.layout.roleOfNode[id]!.def.state.encode(w, state, `${this.layout.nodeName(id)}.state`);
    } catch (e) {
      throw new HandlerError(`node ${this.layout.nodeName(id)} has a state that does not fit its schema: ${(e as Error).message}`, e, id);
    }
  }

  /** Encodes node `id`'s state with a length prefix (written after the fact: state sizes vary). */
  encodeNodeFramed(w: Writer, id: NodeId, state: unknown): void {
    // Reserve one length byte; move the body when the length needs more.
    const lenAt = w.pos;
    w.u8(0);
    const start = w.pos;
    this.encodeNodeState(w, id, state);
    const len = w.pos - start;
    if (len < 0x80) {
      w.buf[lenAt] = len;
    } else {
      const body = w.buf.slice(start, w.pos);
      w.pos = lenAt;
      w.varint(len);
      w.bytes(body);
    }
  }

  /** Encodes a network section. */
  encodeNet(w: Writer, net: readonly Envelope[]): void {
    w.varint(net.length);
    const counted = this.network.counted;
    for (let i = 0; i < net.length; i++) {
      const e = net[i]!;
      w.varint(e.bytes.length);
      w.bytes(e.bytes);
      if (counted) w.varint(e.count);
    }
  }

  /**
   * Unpacks a world. Node and envelope bytes are views into `buf`, which successors re-use when
   * packed, so `buf` must stay unchanged while the world and its successors are in use. With
   * `scratch`, the arrays of the result are reused by the next scratch decode.
   */
  decode(buf: Uint8Array, scratch = false): WorldState {
    const n = this.nodeCount;
    const r = this.worldReader.reset(buf);
    const time = r.varint();
    const crashes = r.varint();
    const sc = this.scratch;
    const offsets = scratch ? sc.offsets : new Int8Array(n);
    if (this.offsets) for (let id = 0; id < n; id++) offsets[id] = (r.u8() << 24) >> 24;
    const crashed = scratch ? sc.crashed : new Uint8Array(n);
    const nodes = scratch ? sc.nodes : new Array<unknown>(n);
    const nodeBytes = scratch ? sc.nodeBytes : new Array<Uint8Array | null>(n);
    const nodeAt = scratch ? sc.nodeAt : new Int32Array(n + 1);
    const nodeHi = scratch ? sc.nodeHi : new Int32Array(n);
    const nodeLo = scratch ? sc.nodeLo : new Int32Array(n);
    const h = this.lanes;
    const last = this.last;
    const end = buf.length;
    let nodeSumHi = 0;
    let nodeSumLo = 0;
    // Lengths under 128 (one varint byte) are read inline; the Reader takes the rest and errors.
    let p = r.pos;
    for (let id = 0; id < n; id++) {
      nodeAt[id] = p;
      let len = p + 1 < end ? buf[p + 1]! : 0x80;
      let start = p + 2;
      if (len >= 0x80 || start + len > end) {
        r.pos = p + 1;
        len = r.length();
        start = r.pos;
      }
      const flag = buf[p]!;
      p = start + len;
      crashed[id] = flag;
      nodeBytes[id] = UNCHANGED;
      // Worlds decoded one after another share most node states: compare with the last first.
      if (last.crashed[id] === flag && last.same(id, buf, start, len)) {
        const hi = last.hi[id]!;
        const lo = last.lo[id]!;
        nodeHi[id] = hi;
        nodeLo[id] = lo;
        nodeSumHi = (nodeSumHi + hi) | 0;
        nodeSumLo = (nodeSumLo + lo) | 0;
        nodes[id] = last.values[id];
        continue;
      }
      hash(buf, start, len, nodeSeed(id, flag), h);
      const hi = h[0]!;
      const lo = h[1]!;
      nodeHi[id] = hi;
      nodeLo[id] = lo;
      nodeSumHi = (nodeSumHi + hi) | 0;
      nodeSumLo = (nodeSumLo + lo) | 0;
      const value = this.nodeState(id, buf, start, len, hi ^ lo);
      nodes[id] = value;
      last.remember(id, buf, start, len);
      last.crashed[id] = flag;
      last.hi[id] = hi;
      last.lo[id] = lo;
      last.values[id] = value;
    }
    nodeAt[n] = p;
    // The network section as a whole: networks repeat across many worlds, so the decoded
    // envelope list and its hash sum come from a cache keyed by the section's bytes.
    const netAt = p;
    r.pos = p;
    const count = r.length();
    p = r.pos;
    const counted = this.network.counted;
    for (let i = 0; i < count; i++) {
      const len = p < end ? buf[p]! : 0x80;
      if (len < 0x80 && p + 1 + len <= end) {
        p += 1 + len;
      } else {
        r.pos = p;
        p = r.length();
        p += r.pos;
      }
      if (counted) {
        r.pos = p;
        r.varint();
        p = r.pos;
      }
    }
    r.pos = p;
    const netEnd = p;
    let entry: NetEntry;
    if (last.same(n, buf, netAt, netEnd - netAt)) {
      entry = last.net!;
    } else {
      const netHash = this.netCache.hashOf(buf, netAt, netEnd - netAt);
      entry = this.netCache.get(buf, netAt, netEnd - netAt, netHash) ?? this.decodeNet(buf, netAt, netEnd, netHash);
      last.remember(n, buf, netAt, netEnd - netAt);
      last.net = entry;
    }
    const history = this.clients ? this.clients.history.decode(r) : NO_HISTORY;
    return {
      time, crashes, crashed, offsets, nodes, nodeBytes, net: entry.net, history, src: buf, nodeAt, nodeHi, nodeLo, nodeSumHi, nodeSumLo,
      netBase: entry.net, netAt, netEnd, netSumHi: entry.hi, netSumLo: entry.lo,
    };
  }

  /**
   * Unpacks a world with no cache and no ties to `buf`: every node state and envelope decoded
   * from its bytes (envelopes interned, as every network holds them). The reference semantics'
   * decode.
   */
  decodePlain(buf: Uint8Array): WorldState {
    const n = this.nodeCount;
    const r = new Reader(buf);
    const time = r.varint();
    const crashes = r.varint();
    const offsets = new Int8Array(n);
    if (this.offsets) for (let id = 0; id < n; id++) offsets[id] = (r.u8() << 24) >> 24;
    const crashed = new Uint8Array(n);
    const nodes = new Array<unknown>(n);
    for (let id = 0; id < n; id++) {
      crashed[id] = r.u8();
      const len = r.length();
      const end = r.pos + len;
      const nr = new Reader(buf.subarray(r.pos, end));
      nodes[id] = this.layout.roleOfNode[id]!.def.state.decode(nr);
      if (nr.pos !== len) throw new DecodeError('trailing bytes after a node state', r.pos + nr.pos);
      r.pos = end;
    }
    const count = r.length();
    const net: Envelope[] = [];
    for (let i = 0; i < count; i++) {
      const len = r.length();
      const start = r.pos;
      r.pos += len;
      net.push(this.envelopes.intern(buf, start, len, this.network.counted ? r.varint() : 1));
    }
    const history = this.clients ? this.clients.history.decode(r) : NO_HISTORY;
    if (r.pos !== buf.length) throw new DecodeError('trailing bytes after a world', r.pos);
    return { time, crashes, crashed, offsets, nodes, nodeBytes: new Array(n).fill(null), net, history, ...NO_SOURCE };
  }

  /** Parses a network section (records interned) and remembers it. */
  private decodeNet(buf: Uint8Array, at: number, end: number, h: number): NetEntry {
    const r = this.netReader.reset(buf, at, end);
    const count = r.length();
    const net: Envelope[] = new Array(count);
    const counted = this.network.counted;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      const len = r.length();
      const start = r.pos;
      r.pos += len;
      const copies = counted ? r.varint() : 1;
      const e = this.envelopes.intern(buf, start, len, copies);
      hi = (hi + e.hHi) | 0;
      lo = (lo + e.hLo) | 0;
      net[i] = e;
    }
    const entry: NetEntry = { net, hi, lo };
    this.netCache.set(buf, at, end - at, h, entry);
    return entry;
  }

  /** Node `id`'s state from its packed bytes (`h`: their hash), decoded once per byte string per role. */
  private nodeState(id: NodeId, buf: Uint8Array, start: number, len: number, h: number): unknown {
    const role = this.layout.roleOfNode[id]!;
    const cache = this.decoded.get(role.name)!;
    const known = cache.get(buf, start, len, h);
    if (known !== undefined) return known;
    const r = this.nodeReader.reset(buf, start, start + len);
    const value = role.def.state.decode(r);
    if (r.pos !== start + len) throw new DecodeError('trailing bytes after a node state', r.pos);
    cache.set(buf, start, len, h, value);
    return value;
  }
}

/**
 * The node sections (0..n-1) and network section (n) of the world decoded last: their bytes
 * (copied), hashes and decoded values. The frontier holds siblings and cousins one after
 * another, so most sections equal the last one's and skip hashing and cache lookups.
 */
class LastDecoded {
  readonly bytes: Uint8Array[] = [];
  readonly lengths: Int32Array;
  readonly crashed: Int16Array;
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly values: unknown[];
  net: NetEntry | null = null;

  constructor(nodes: number) {
    for (let i = 0; i <= nodes; i++) this.bytes.push(new Uint8Array(16));
    this.lengths = new Int32Array(nodes + 1).fill(-1);
    this.crashed = new Int16Array(nodes).fill(-1);
    this.hi = new Int32Array(nodes);
    this.lo = new Int32Array(nodes);
    this.values = new Array(nodes);
  }

  same(section: number, buf: Uint8Array, start: number, len: number): boolean {
    if (this.lengths[section] !== len) return false;
    const b = this.bytes[section]!;
    for (let i = 0; i < len; i++) if (b[i] !== buf[start + i]) return false;
    return true;
  }

  remember(section: number, buf: Uint8Array, start: number, len: number): void {
    let b = this.bytes[section]!;
    if (b.length < len) this.bytes[section] = b = new Uint8Array(Math.max(len, b.length * 2));
    for (let i = 0; i < len; i++) b[i] = buf[start + i]!; // sections are short: no view to allocate
    this.lengths[section] = len;
  }
}

/**
 * A direct-mapped cache of values by the bytes they were decoded from. Protocol states and
 * networks repeat across millions of worlds; decoding each byte string once and sharing the
 * (immutable) value saves both time and garbage. A slot holds the last value whose bytes
 * hashed to it. Callers that already hashed the bytes pass that hash.
 *
 * Where values do not repeat, a {@link HitTrial} empties it and it stops storing.
 */
class BytesCache<T> {
  private readonly keys: (Uint8Array | null)[];
  private readonly values: (T | undefined)[];
  private readonly lanes = new Int32Array(2);
  private readonly trial = new HitTrial();

  constructor(private readonly size: number) {
    this.keys = new Array(size).fill(null);
    this.values = new Array(size);
  }

  /** A hash of the bytes, for callers that have none. */
  hashOf(buf: Uint8Array, start: number, len: number): number {
    hash64(buf, start, len, 0x6e6574, this.lanes);
    return this.lanes[0]! ^ (this.lanes[1]! >>> 11);
  }

  get(buf: Uint8Array, start: number, len: number, h: number): T | undefined {
    if (!this.trial.on) return undefined;
    const value = this.find(buf, start, len, h);
    if (!this.trial.record(value !== undefined)) {
      this.keys.fill(null);
      this.values.fill(undefined);
    }
    return value;
  }

  private find(buf: Uint8Array, start: number, len: number, h: number): T | undefined {
    const slot = (h ^ (h >>> 15)) & (this.size - 1);
    const key = this.keys[slot];
    if (key === null || key.length !== len) return undefined;
    for (let i = 0; i < len; i++) if (key[i] !== buf[start + i]) return undefined;
    return this.values[slot];
  }

  set(buf: Uint8Array, start: number, len: number, h: number, value: T): void {
    if (!this.trial.on) return;
    const slot = (h ^ (h >>> 15)) & (this.size - 1);
    this.keys[slot] = buf.slice(start, start + len);
    this.values[slot] = value;
  }
}
