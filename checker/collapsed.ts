/**
 * Collapsed states for the single-threaded explorer (SPIN's "collapse compression"): a world
 * kept in the frontier as a record of small integer ids (varints), one for its head (clock, crash count,
 * clock offsets, client history), one per node (state and crash flag) and one for its network.
 * Each id names an interned component that carries its decoded value and fingerprint hash, so
 * expanding a parent is a few array reads, and a successor interns only what changed: usually
 * one node state, whose value then is the same object in every world that holds it.
 *
 * Components must stay few next to the states (true of the set network, where networks only
 * grow): the explorer watches {@link Collapser.entries} and falls back to packed bytes.
 */
import { Writer } from '../specs/core/index.ts';
import { hash64 } from './fingerprint.ts';
import { UNCHANGED, nodeSeed, type Envelope, type HistoryEvent, type World, type WorldState } from './world.ts';

/** How many bytes objects per node, and network arrays, ids are remembered for by identity. */
const BY_BYTES_MAX = 1 << 16;

interface NodeEntry {
  readonly value: unknown;
  readonly crashed: number;
  /** The state's packed bytes (without the crash flag). */
  readonly bytes: Uint8Array;
  readonly hi: number;
  readonly lo: number;
}

interface NetEntry {
  readonly net: Envelope[];
  readonly hi: number;
  readonly lo: number;
}

interface HeadEntry {
  readonly time: number;
  readonly crashes: number;
  readonly offsets: Int8Array;
  readonly history: readonly HistoryEvent[];
}

export class Collapser {
  private readonly n: number;
  private readonly nodeIds: Interner[] = [];
  private readonly nodeEntries: NodeEntry[][] = [];
  /** Per node: ids by the identity of a known bytes object (see `node`). */
  private readonly idsByBytes: Map<Uint8Array, number>[] = [];
  private readonly netIds = new Interner();
  private readonly netEntries: NetEntry[] = [];
  private readonly netIdsByArray = new Map<Envelope[], number>();
  private readonly headIds = new Interner();
  private readonly headEntries: HeadEntry[] = [];
  /** The record being built by {@link collapse}. */
  private readonly record = new Writer(64);
  /** The record and world last expanded: successors of it share its unchanged components. */
  private readonly parent: Int32Array;
  private parentState: WorldState | null = null;
  private readonly w = new Writer(256);
  private readonly lanes = new Int32Array(2);
  private readonly scratch: { crashed: Uint8Array; nodes: unknown[]; nodeBytes: Uint8Array[]; nodeHi: Int32Array; nodeLo: Int32Array };

  constructor(private readonly world: World) {
    const n = world.nodeCount;
    this.n = n;
    this.parent = new Int32Array(n + 2);
    for (let id = 0; id < n; id++) {
      this.nodeIds.push(new Interner());
      this.nodeEntries.push([]);
      this.idsByBytes.push(new Map());
    }
    this.scratch = {
      crashed: new Uint8Array(n), nodes: new Array(n), nodeBytes: new Array(n).fill(UNCHANGED),
      nodeHi: new Int32Array(n), nodeLo: new Int32Array(n),
    };
  }

  /** How many components are interned. */
  get entries(): number {
    let total = this.netEntries.length + this.headEntries.length;
    for (const e of this.nodeEntries) total += e.length;
    return total;
  }

  /**
   * The record of `s` (a view, valid until the next call): its components interned. `s` is a
   * successor of the world last expanded (whose unchanged parts it shares) or a fresh world.
   */
  collapse(s: WorldState): Uint8Array {
    const p = this.parentState;
    const head = p !== null && s.time === p.time && s.crashes === p.crashes && s.offsets === p.offsets && s.history === p.history
      ? this.parent[0]!
      : this.head(s);
    const rec = this.record.reset();
    rec.varint(head);
    for (let id = 0; id < this.n; id++) {
      const b = s.nodeBytes[id]!;
      rec.varint(b === UNCHANGED ? this.parent[1 + id]! : this.node(id, s.crashed[id]!, b, s.nodes[id]));
    }
    rec.varint(p !== null && s.net === s.netBase ? this.parent[1 + this.n]! : this.network(s.net));
    return rec.buf.subarray(0, rec.pos);
  }

  /**
   * The world a record names. Its arrays are reused by the next call, like a scratch decode:
   * the explorer's parent lives only while it is expanded. With `forPacking`, node states carry
   * their bytes instead of being marked unchanged, so the world can be packed.
   */
  expand(bytes: Uint8Array, forPacking = false): WorldState {
    const n = this.n;
    const parent = this.parent;
    let at = 0;
    for (let i = 0; i < n + 2; i++) {
      // Our own varints: little-endian groups of 7 bits, the last byte below 128.
      let b = bytes[at++]!;
      let v = b & 0x7f;
      for (let shift = 7; b >= 0x80; shift += 7) {
        b = bytes[at++]!;
        v += (b & 0x7f) * 2 ** shift;
      }
      parent[i] = v;
    }
    const sc = this.scratch; // its nodeBytes stay all UNCHANGED: successors copy before changing
    const head = this.headEntries[parent[0]!]!;
    let sumHi = 0;
    let sumLo = 0;
    for (let id = 0; id < n; id++) {
      const e = this.nodeEntries[id]![parent[1 + id]!]!;
      sc.nodes[id] = e.value;
      sc.crashed[id] = e.crashed;
      sc.nodeHi[id] = e.hi;
      sc.nodeLo[id] = e.lo;
      sumHi = (sumHi + e.hi) | 0;
      sumLo = (sumLo + e.lo) | 0;
    }
    const net = this.netEntries[parent[1 + n]!]!;
    const s: WorldState = {
      time: head.time, crashes: head.crashes, crashed: sc.crashed, offsets: head.offsets, nodes: sc.nodes,
      nodeBytes: sc.nodeBytes, net: net.net, history: head.history,
      src: null, nodeAt: null, nodeHi: sc.nodeHi, nodeLo: sc.nodeLo, nodeSumHi: sumHi, nodeSumLo: sumLo,
      netBase: net.net, netAt: 0, netEnd: 0, netSumHi: net.hi, netSumLo: net.lo,
    };
    if (forPacking) {
      this.parentState = null;
      return { ...s, nodeBytes: sc.nodes.map((_, id) => this.nodeEntries[id]![parent[1 + id]!]!.bytes), nodeHi: null, nodeLo: null, netBase: null };
    }
    this.parentState = s;
    return s;
  }

  private head(s: WorldState): number {
    const w = this.w.reset();
    w.varint(s.time);
    w.varint(s.crashes);
    if (this.world.options.clockError > 0) for (let id = 0; id < this.n; id++) w.u8(s.offsets[id]! & 0xff);
    if (this.world.clients) this.world.clients.history.encode(w, s.history, 'history');
    const h = this.hashOf(w.buf, w.pos, 0x4ead);
    let id = this.headIds.find(w.buf, w.pos, h);
    if (id < 0) {
      id = this.headIds.add(w.buf, w.pos, h);
      this.headEntries.push({ time: s.time, crashes: s.crashes, offsets: s.offsets.slice(), history: s.history });
    }
    return id;
  }

  private node(node: number, crashed: number, known: Uint8Array | null, value: unknown): number {
    // A handler outcome's bytes are one object for every successor it makes: remember its id.
    const byBytes = this.idsByBytes[node]!;
    if (known !== null && crashed === 0) {
      const id = byBytes.get(known);
      if (id !== undefined) return id;
    }
    const id = this.intern(node, crashed, known, value);
    if (known !== null && crashed === 0 && byBytes.size < BY_BYTES_MAX) byBytes.set(known, id);
    return id;
  }

  private intern(node: number, crashed: number, known: Uint8Array | null, value: unknown): number {
    const w = this.w.reset();
    w.u8(crashed);
    if (known !== null) w.bytes(known);
    else this.world.encodeNodeState(w, node, value);
    const h = this.hashOf(w.buf, w.pos, node);
    const ids = this.nodeIds[node]!;
    let id = ids.find(w.buf, w.pos, h);
    if (id < 0) {
      id = ids.add(w.buf, w.pos, h);
      const bytes = w.buf.slice(1, w.pos);
      hash64(bytes, 0, bytes.length, nodeSeed(node, crashed), this.lanes);
      this.nodeEntries[node]!.push({ value, crashed, bytes, hi: this.lanes[0]!, lo: this.lanes[1]! });
    }
    return id;
  }

  private network(net: Envelope[]): number {
    // The world hands out one array per (network, sends): remember its id by identity.
    const known = this.netIdsByArray.get(net);
    if (known !== undefined) return known;
    const id = this.internNetwork(net);
    if (this.netIdsByArray.size >= BY_BYTES_MAX) this.netIdsByArray.clear();
    this.netIdsByArray.set(net, id);
    return id;
  }

  private internNetwork(net: Envelope[]): number {
    const w = this.w.reset();
    this.world.encodeNet(w, net);
    const h = this.hashOf(w.buf, w.pos, 0x6e6574);
    let id = this.netIds.find(w.buf, w.pos, h);
    if (id < 0) {
      id = this.netIds.add(w.buf, w.pos, h);
      let hi = 0;
      let lo = 0;
      for (const e of net) {
        hi = (hi + e.hHi) | 0;
        lo = (lo + e.hLo) | 0;
      }
      this.netEntries.push({ net, hi, lo });
    }
    return id;
  }

  private hashOf(buf: Uint8Array, len: number, seed: number): number {
    hash64(buf, 0, len, seed, this.lanes);
    return this.lanes[0]! ^ this.lanes[1]!;
  }
}

/** Exact interning of byte strings: each distinct string gets the next id (open addressing). */
class Interner {
  private slots = new Int32Array(64);
  private readonly keys: Uint8Array[] = [];
  private readonly hashes: number[] = [];

  /** The id of `buf[0..len)`, or -1. `h`: its hash. */
  find(buf: Uint8Array, len: number, h: number): number {
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.slots[slot]!;
      if (e === 0) return -1;
      const key = this.keys[e - 1]!;
      if (this.hashes[e - 1] !== h || key.length !== len) continue;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (key[i] !== buf[i]) {
          same = false;
          break;
        }
      }
      if (same) return e - 1;
    }
  }

  /** Adds `buf[0..len)` (not present); returns its id. */
  add(buf: Uint8Array, len: number, h: number): number {
    const id = this.keys.length;
    this.keys.push(buf.slice(0, len));
    this.hashes.push(h);
    if (this.keys.length * 2 > this.slots.length) this.grow();
    else this.place(this.slots, id, h);
    return id;
  }

  private place(slots: Int32Array, id: number, h: number): void {
    const mask = slots.length - 1;
    let slot = h & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = id + 1;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.keys.length; id++) this.place(slots, id, this.hashes[id]!);
    this.slots = slots;
  }
}
