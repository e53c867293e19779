/**
 * Symmetry reduction: nodes of a role declared `symmetric` are interchangeable, so a world and
 * any permutation of those nodes are one state. The canonical form is the permutation with the
 * smallest packed bytes among those that sort the nodes by a permutation-invariant key (their
 * own state with every symmetric node id blinded). Ties are broken by trying every ordering
 * inside each tie group, which makes the form exact: two worlds in the same orbit get the same
 * bytes. Past {@link MAX_CANDIDATES} orderings it keeps the sorted one only: still sound (never
 * merges distinct orbits), just less reduction.
 *
 * The spec needs no code for this: the schemas say which fields hold node ids.
 */
import { Writer, compareBytes } from '../specs/core/index.ts';
import { NO_SOURCE, type Envelope, type World, type WorldState } from './world.ts';

const MAX_CANDIDATES = 720;
const BLIND = 0xffff;
/** The id a signature gives the node it is about (see `signature`). */
const MARK = 0xfffe;
/** Entries each permutation cache holds before it starts over. */
const CACHE_MAX = 1 << 18;

export class Symmetry {
  /** Symmetric roles with at least two nodes. */
  private readonly roles: { base: number; count: number }[];
  private readonly blind: Int32Array;
  private readonly keyWriter = new Writer(256);
  private readonly candidate = new Writer(1024);
  private readonly best = new Writer(1024);
  private readonly envWriter = new Writer(64);
  private readonly stateWriter = new Writer(256);
  private readonly signatureWriter = new Writer(1024);
  private readonly mark: Int32Array;
  /**
   * Canonicalizing tries a few permutations of many similar worlds, so the pieces are cached
   * (node states and envelopes are immutable): each permutation's small id by its image, a node
   * state's packed bytes under each permutation (per role), an envelope's image under each, and
   * a node state's blinded bytes (its sort key).
   */
  private readonly permIds = new Map<string, number>();
  private readonly stateImages = new Map<object, Map<unknown, Uint8Array[]>>();
  private readonly envelopeImages = new Map<Envelope, Envelope[]>();
  private readonly blinded = new Map<object, Map<unknown, Uint8Array>>();
  /** A node state's and an envelope's part of each node's signature (see `signature`), by node. */
  private readonly stateParts = new Map<object, Map<unknown, Uint8Array[]>>();
  private readonly envelopeParts = new Map<unknown, Uint8Array[]>();

  constructor(private readonly world: World) {
    this.roles = world.roles.filter((r) => r.symmetric && r.count > 1).map((r) => ({ base: r.base, count: r.count }));
    this.blind = new Int32Array(world.nodeCount);
    for (let id = 0; id < world.nodeCount; id++) this.blind[id] = id;
    for (const r of this.roles) for (let i = 0; i < r.count; i++) this.blind[r.base + i] = BLIND;
    this.mark = new Int32Array(world.nodeCount);
  }

  get active(): boolean {
    return this.roles.length > 0;
  }

  /** The canonical packed bytes of `s` (a view, valid until the next call). */
  canonical(s: WorldState): Uint8Array {
    if (!this.active) return this.world.encode(s);
    // Per role: nodes sorted by key, and the tie groups of that order.
    const orders: number[][] = [];
    const groups: [number, number][][] = [];
    let candidates = 1;
    for (const r of this.roles) {
      const keys: Uint8Array[] = [];
      for (let i = 0; i < r.count; i++) keys.push(this.key(s, r.base + i));
      const order = Array.from({ length: r.count }, (_, i) => i).sort((a, b) => compareBytes(keys[a]!, keys[b]!) || a - b);
      const roleGroups: [number, number][] = [];
      let start = 0;
      for (let i = 1; i <= r.count; i++) {
        if (i === r.count || compareBytes(keys[order[i]!]!, keys[order[start]!]!) !== 0) {
          if (i - start > 1) {
            roleGroups.push([start, i]);
            candidates *= factorial(i - start);
          }
          start = i;
        }
      }
      orders.push(order);
      groups.push(roleGroups);
    }
    // Nodes that tie on their own state are told apart, where possible, by where their ids
    // occur in the rest of the world (the value a map keys by them, the messages to them).
    if (candidates > 1) candidates = this.refine(s, orders, groups);
    const perm = new Int32Array(this.world.nodeCount);
    for (let id = 0; id < perm.length; id++) perm[id] = id;
    if (candidates > MAX_CANDIDATES) {
      this.applyOrders(orders, perm);
      return this.encodePermuted(s, perm, this.best);
    }
    let found = false;
    const visit = () => {
      this.applyOrders(orders, perm);
      const bytes = this.encodePermuted(s, perm, this.candidate);
      if (!found || compareBytes(bytes, this.best.view()) < 0) {
        this.best.reset();
        this.best.bytes(bytes);
        found = true;
      }
    };
    permuteGroups(orders, groups, 0, 0, visit);
    return this.best.view();
  }

  /**
   * Splits each tie group by the nodes' signatures (see {@link signature}): a group's nodes are
   * sorted by signature and only nodes with equal signatures stay tied. Returns the number of
   * orderings left to try. Exact, because a signature is invariant under the symmetry: renaming
   * the world's symmetric nodes gives node x's image the signature x had.
   */
  private refine(s: WorldState, orders: number[][], groups: [number, number][][]): number {
    let candidates = 1;
    this.roles.forEach((r, k) => {
      const order = orders[k]!;
      const refined: [number, number][] = [];
      for (const [start, end] of groups[k]!) {
        const signatures = new Map<number, Uint8Array>();
        for (let p = start; p < end; p++) signatures.set(order[p]!, this.signature(s, r.base + order[p]!));
        const tied = order.slice(start, end).sort((a, b) => compareBytes(signatures.get(a)!, signatures.get(b)!) || a - b);
        for (let p = start; p < end; p++) order[p] = tied[p - start]!;
        let from = start;
        for (let p = start + 1; p <= end; p++) {
          if (p === end || compareBytes(signatures.get(order[p]!)!, signatures.get(order[from]!)!) !== 0) {
            if (p - from > 1) {
              refined.push([from, p]);
              candidates *= factorial(p - from);
            }
            from = p;
          }
        }
      }
      groups[k] = refined;
    });
    return candidates;
  }

  /**
   * Where symmetric node `x`'s id occurs in `s`, with x's id marked and every other symmetric
   * id blinded: every node's state (non-symmetric nodes in id order; symmetric ones as a sorted
   * multiset, their ids being arbitrary), the network as a sorted multiset of envelopes, and the
   * history. Equal for x in s and for x's image in any renaming of s.
   */
  private signature(s: WorldState, x: number): Uint8Array {
    this.markFor(x);
    const fixed: Uint8Array[] = [];
    const symmetric: Uint8Array[] = [];
    for (let id = 0; id < this.world.nodeCount; id++) {
      const role = this.world.roleOfNode[id]!;
      if (!role.def.state.hasNodes) continue;
      (this.blind[id] === BLIND ? symmetric : fixed).push(this.part(cached(this.stateParts, role), s.nodes[id], x, () => this.statePart(id, s.nodes[id])));
    }
    const envelopes: Uint8Array[] = [];
    for (const e of s.net) {
      if (this.blind[e.from] !== BLIND && this.blind[e.to] !== BLIND && !this.world.payloadSchema(e.channel).hasNodes) continue;
      envelopes.push(this.part(this.envelopeParts, e, x, () => this.envelopePart(e)));
    }
    const out = this.signatureWriter.reset();
    for (const part of [fixed, symmetric.sort(compareBytes), envelopes.sort(compareBytes)]) {
      out.varint(part.length);
      for (const bytes of part) {
        out.varint(bytes.length);
        out.bytes(bytes);
      }
    }
    const history = this.world.clients?.history;
    if (history?.hasNodes) history.encode(out, history.mapNodes(s.history, this.markFor(x)));
    return out.toBytes();
  }

  /** The ids map of a signature about node `x`: x marked, every other symmetric node blinded. */
  private markFor(x: number): Int32Array {
    const mark = this.mark;
    mark.set(this.blind);
    mark[x] = MARK;
    return mark;
  }

  /** A signature's part for `owner` (a node state or an envelope) about node `x`, from `cache` (node states and envelopes are immutable). */
  private part(cache: Map<unknown, Uint8Array[]>, owner: unknown, x: number, make: () => Uint8Array): Uint8Array {
    let parts = cache.get(owner);
    if (parts === undefined) {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(owner, (parts = []));
    }
    return (parts[x] ??= make());
  }

  /** Node `id`'s state under the mark (see {@link markFor}, set by the caller), packed. */
  private statePart(id: number, state: unknown): Uint8Array {
    const schema = this.world.roleOfNode[id]!.def.state;
    const w = this.stateWriter.reset();
    schema.encode(w, schema.mapNodes(state, this.mark));
    return w.toBytes();
  }

  /** Envelope `e` under the mark, packed: sender, receiver, channel, copies, payload. */
  private envelopePart(e: Envelope): Uint8Array {
    const mark = this.mark;
    const w = this.envWriter.reset();
    const messages = this.world.payloadSchema(e.channel);
    const msg = this.world.message(e);
    w.varint(mark[e.from]!);
    w.varint(mark[e.to]!);
    w.u8(e.channel);
    w.varint(e.count);
    messages.encode(w, messages.hasNodes ? messages.mapNodes(msg, mark) : msg);
    return w.toBytes();
  }

  /** old id → new id: node at sorted position p of a role gets id base + p. */
  private applyOrders(orders: number[][], perm: Int32Array): void {
    this.roles.forEach((r, k) => {
      const order = orders[k]!;
      for (let p = 0; p < r.count; p++) perm[r.base + order[p]!] = r.base + p;
    });
  }

  private key(s: WorldState, id: number): Uint8Array {
    const w = this.keyWriter.reset();
    w.u8(s.crashed[id]!);
    w.u8(s.offsets[id]! & 0xff);
    const role = this.world.roleOfNode[id]!;
    const cache = cached(this.blinded, role);
    const state = s.nodes[id];
    let bytes = cache.get(state);
    if (bytes === undefined) {
      const schema = role.def.state;
      const sw = this.stateWriter.reset();
      schema.encode(sw, schema.hasNodes ? schema.mapNodes(state, this.blind) : state);
      bytes = sw.toBytes();
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(state, bytes);
    }
    w.bytes(bytes);
    return w.toBytes();
  }

  /** A small id for a permutation (the index into the image caches). */
  private permId(perm: Int32Array): number {
    const key = perm.join(',');
    let id = this.permIds.get(key);
    if (id === undefined) this.permIds.set(key, (id = this.permIds.size));
    return id;
  }

  /** Node `id`'s state with node ids renamed by `perm`, packed. */
  private stateImage(id: number, state: unknown, perm: Int32Array, pid: number): Uint8Array {
    const role = this.world.roleOfNode[id]!;
    const cache = cached(this.stateImages, role);
    let images = cache.get(state);
    if (images === undefined) {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(state, (images = []));
    }
    let bytes = images[pid];
    if (bytes === undefined) {
      const schema = role.def.state;
      const w = this.stateWriter.reset();
      this.world.encodeNodeState(w, id, schema.hasNodes ? schema.mapNodes(state, perm) : state);
      images[pid] = bytes = w.toBytes();
    }
    return bytes;
  }

  /** An envelope with node ids renamed by `perm` (interned). */
  private envelopeImage(e: Envelope, perm: Int32Array, pid: number): Envelope {
    let images = this.envelopeImages.get(e);
    if (images === undefined) {
      if (this.envelopeImages.size >= CACHE_MAX) this.envelopeImages.clear();
      this.envelopeImages.set(e, (images = []));
    }
    let image = images[pid];
    if (image === undefined) {
      const w = this.envWriter.reset();
      const messages = this.world.payloadSchema(e.channel);
      const msg = this.world.message(e);
      w.varint(perm[e.from]!);
      w.varint(perm[e.to]!);
      w.u8(e.channel);
      messages.encode(w, messages.hasNodes ? messages.mapNodes(msg, perm) : msg);
      images[pid] = image = this.world.fresh(w.view(), e.count); // interning copies the bytes on a miss
    }
    return image;
  }

  /** The packed bytes of `s` with node ids renamed by `perm` (old id → new id); a copy. */
  permuted(s: WorldState, perm: Int32Array): Uint8Array {
    return this.encodePermuted(s, perm, new Writer(256)).slice();
  }

  private encodePermuted(s: WorldState, perm: Int32Array, out: Writer): Uint8Array {
    const n = this.world.nodeCount;
    // Most worlds are already in their canonical order (the frontier holds canonical forms, and
    // a step moves one node): then the world packs as it is, from its cached node bytes.
    let identity = true;
    for (let id = 0; id < n && identity; id++) identity = perm[id] === id;
    if (identity) {
      out.reset();
      out.bytes(this.world.encode(s));
      return out.view();
    }
    const pid = this.permId(perm);
    // Packing reads node states from their bytes: `nodes` only keeps the world well-formed.
    const nodes = new Array<unknown>(n);
    const crashed = new Uint8Array(n);
    const offsets = new Int8Array(n);
    const nodeBytes = new Array<Uint8Array | null>(n);
    for (let id = 0; id < n; id++) {
      const to = perm[id]!;
      nodes[to] = s.nodes[id];
      crashed[to] = s.crashed[id]!;
      offsets[to] = s.offsets[id]!;
      nodeBytes[to] = this.stateImage(id, s.nodes[id], perm, pid);
    }
    const net = this.permuteNet(s.net, perm, pid);
    const clients = this.world.clients;
    const history = clients && clients.history.hasNodes ? clients.history.mapNodes(s.history, perm) : s.history;
    const view = this.world.encode({ time: s.time, crashes: s.crashes, crashed, offsets, nodes, nodeBytes, net, history, ...NO_SOURCE });
    out.reset();
    out.bytes(view);
    return out.view();
  }

  private permuteNet(net: Envelope[], perm: Int32Array, pid: number): Envelope[] {
    const out: Envelope[] = net.map((e) => this.envelopeImage(e, perm, pid));
    if (this.world.options.network === 'fifo') {
      // Links in (from, to) order; a stable sort keeps each link's queue order.
      out.sort((a, b) => a.from - b.from || a.to - b.to);
    } else {
      out.sort((a, b) => compareBytes(a.bytes, b.bytes));
    }
    return out;
  }
}

/** The cache kept for `owner` in `caches` (made on first use). */
function cached<V>(caches: Map<object, Map<unknown, V>>, owner: object): Map<unknown, V> {
  let cache = caches.get(owner);
  if (cache === undefined) caches.set(owner, (cache = new Map()));
  return cache;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** Calls `visit` once per combination of orderings inside every tie group (Heap's algorithm). */
function permuteGroups(orders: number[][], groups: [number, number][][], role: number, group: number, visit: () => void): void {
  if (role === orders.length) {
    visit();
    return;
  }
  const roleGroups = groups[role]!;
  if (group === roleGroups.length) {
    permuteGroups(orders, groups, role + 1, 0, visit);
    return;
  }
  const [start, end] = roleGroups[group]!;
  const order = orders[role]!;
  const heap = (k: number): void => {
    if (k === 1) {
      permuteGroups(orders, groups, role, group + 1, visit);
      return;
    }
    for (let i = 0; i < k - 1; i++) {
      heap(k - 1);
      const j = k % 2 === 0 ? start + i : start;
      const tmp = order[j]!;
      order[j] = order[start + k - 1]!;
      order[start + k - 1] = tmp;
    }
    heap(k - 1);
  };
  heap(end - start);
}
