/**
 * Symmetry reduction: nodes of a role declared `symmetric` are interchangeable, so a world and
 * any permutation of those nodes are one state. The canonical form is the permutation with the
 * smallest packed bytes among those that sort the nodes by a permutation-invariant key (their
 * own state with every symmetric node id blinded), then by a signature of where each node's id
 * occurs in the rest of the world (also permutation-invariant; see `sign`). Nodes still tied are
 * ordered every way inside their group and the smallest packing wins, which makes the form exact:
 * two worlds in the same orbit get the same bytes. Past {@link MAX_CANDIDATES} orderings it keeps
 * the sorted one only: still sound (never merges distinct orbits), just less reduction.
 *
 * The spec needs no code for this: the schemas say which fields hold node ids.
 */
import { Writer, compareBytes } from '../specs/core/index.ts';
import { mixContext, type OccurrenceSink } from '../specs/core/schema.ts';
import { hash64 } from './fingerprint.ts';
import { NO_SOURCE, type Envelope, type World, type WorldState } from './world.ts';

const MAX_CANDIDATES = 720;
const BLIND = 0xffff;
/** Entries each permutation cache holds before it starts over. */
const CACHE_MAX = 1 << 18;

export class Symmetry {
  /** Symmetric roles with at least two nodes. */
  private readonly roles: { base: number; count: number }[];
  /** How many nodes those roles have in all. */
  private readonly symmetricCount: number;
  private readonly blind: Int32Array;
  private readonly candidate = new Writer(1024);
  private readonly best = new Writer(1024);
  private readonly envWriter = new Writer(64);
  private readonly stateWriter = new Writer(256);
  /** Per symmetric role, reused by every `canonical`: its nodes' order, its tie groups; and the permutation built from them. */
  private readonly orders: number[][];
  private readonly groups: [number, number][][];
  private readonly perm: Int32Array;
  /** The symmetric nodes' blinded states in the world being canonicalized, by node id. */
  private readonly blindedStates: Uint8Array[] = [];
  /** Each node's signature as two 32-bit lanes (see `sign`), and what `sink` needs to fill them. */
  private readonly sigA: Int32Array;
  private readonly sigB: Int32Array;
  private self = -1;
  private peer = -1;
  private readonly valueWriter = new Writer(256);
  private readonly hashOut = new Int32Array(2);
  private readonly sink: OccurrenceSink = {
    occurs: (id, ctx) => {
      if (this.blind[id] === BLIND) this.add(id, mixContext(ctx, id === this.self ? 1 : id === this.peer ? 2 : 3));
    },
    valueHash: (schema, v) => {
      const w = this.valueWriter.reset();
      schema.encode(w, schema.hasNodes ? schema.mapNodes(v, this.blind) : v);
      return this.bytesHash(w.view());
    },
  };
  /**
   * Canonicalizing tries a few permutations of many similar worlds, so the pieces are cached
   * (node states and envelopes are immutable): each permutation's small id by its image, a node
   * state's packed bytes under each permutation (per role), an envelope's image under each, and
   * a node state's blinded bytes (its sort key).
   */
  private readonly permIds = new Map<number | string, number>();
  private readonly stateImages = new Map<object, Map<unknown, Uint8Array[]>>();
  private readonly envelopeImages = new Map<Envelope, Envelope[]>();
  private readonly blinded = new Map<object, Map<unknown, Uint8Array>>();

  constructor(private readonly world: World) {
    this.roles = world.roles.filter((r) => r.symmetric && r.count > 1).map((r) => ({ base: r.base, count: r.count }));
    this.symmetricCount = this.roles.reduce((n, r) => n + r.count, 0);
    this.blind = new Int32Array(world.nodeCount);
    for (let id = 0; id < world.nodeCount; id++) this.blind[id] = id;
    for (const r of this.roles) for (let i = 0; i < r.count; i++) this.blind[r.base + i] = BLIND;
    this.orders = this.roles.map((r) => new Array<number>(r.count));
    this.groups = this.roles.map(() => []);
    this.perm = new Int32Array(world.nodeCount);
    for (let id = 0; id < world.nodeCount; id++) this.perm[id] = id;
    this.sigA = new Int32Array(world.nodeCount);
    this.sigB = new Int32Array(world.nodeCount);
  }

  get active(): boolean {
    return this.roles.length > 0;
  }

  /** The canonical packed bytes of `s` (a view, valid until the next call). */
  canonical(s: WorldState): Uint8Array {
    if (!this.active) return this.world.encode(s);
    // Per role: nodes sorted by key, and the tie groups of that order.
    const { orders, groups } = this;
    const byKey = (a: number, b: number): number => this.compareKeys(s, a, b) || a - b;
    let candidates = 1;
    this.roles.forEach((r, k) => {
      const order = orders[k]!;
      for (let i = 0; i < r.count; i++) this.blindedStates[r.base + i] = this.blindedState(s, r.base + i);
      for (let i = 0; i < r.count; i++) order[i] = r.base + i;
      order.sort(byKey);
      for (let i = 0; i < r.count; i++) order[i] = order[i]! - r.base;
      const roleGroups: [number, number][] = (groups[k] = []);
      let start = 0;
      for (let i = 1; i <= r.count; i++) {
        if (i === r.count || this.compareKeys(s, r.base + order[i]!, r.base + order[start]!) !== 0) {
          if (i - start > 1) {
            roleGroups.push([start, i]);
            candidates *= factorial(i - start);
          }
          start = i;
        }
      }
    });
    // Nodes that tie on their own state are told apart, where possible, by where their ids
    // occur in the rest of the world (the value a map keys by them, the messages to them).
    if (candidates > 1) candidates = this.refine(s, orders, groups);
    const perm = this.perm;
    if (candidates === 1 || candidates > MAX_CANDIDATES) {
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
   * Splits each tie group by the nodes' signatures (see {@link sign}): a group's nodes are
   * sorted by signature and only nodes with equal signatures stay tied. Returns the number of
   * orderings left to try. Exact, because a signature is invariant under the symmetry: renaming
   * the world's symmetric nodes gives node x's image the signature x had.
   */
  private refine(s: WorldState, orders: number[][], groups: [number, number][][]): number {
    this.sign(s);
    const { sigA, sigB } = this;
    const bySignature = (a: number, b: number): number => sigA[a]! - sigA[b]! || sigB[a]! - sigB[b]! || a - b;
    let candidates = 1;
    this.roles.forEach((r, k) => {
      const order = orders[k]!;
      const refined: [number, number][] = [];
      for (const [start, end] of groups[k]!) {
        const tied = order.slice(start, end).map((i) => r.base + i).sort(bySignature);
        for (let p = start; p < end; p++) order[p] = tied[p - start]! - r.base;
        let from = start;
        for (let p = start + 1; p <= end; p++) {
          const x = r.base + order[p]!;
          const y = r.base + order[from]!;
          if (p === end || sigA[x] !== sigA[y] || sigB[x] !== sigB[y]) {
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
   * Fills `sigA`/`sigB` with each symmetric node's signature: the sum of a hash of every place
   * its id occurs in `s` (see `Schema.occurrences`). A place is hashed with what surrounds it,
   * every symmetric id in it blinded: the owner (a non-symmetric node by its id, a symmetric one
   * by its blinded state), the path inside the owner's state and the values beside it, whether
   * the id is the owner's own; for a message, its channel, payload and other endpoint; for the
   * history, the event's position. A sum does not depend on the order places are met in, and
   * nothing here depends on which symmetric node has which id.
   */
  private sign(s: WorldState): void {
    this.sigA.fill(0);
    this.sigB.fill(0);
    const world = this.world;
    for (let id = 0; id < world.nodeCount; id++) {
      const schema = world.roleOfNode[id]!.def.state;
      if (!schema.hasNodes) continue;
      const owner = this.blind[id] === BLIND ? mixContext(mixContext(mixContext(0x53594d, s.crashed[id]!), s.offsets[id]!), this.bytesHash(this.blindedStates[id]!)) : mixContext(0x4e4f44, id);
      this.self = id;
      this.peer = -1;
      schema.occurrences(s.nodes[id], owner, this.sink);
    }
    for (const e of s.net) {
      const messages = world.payloadSchema(e.channel);
      const fromSymmetric = this.blind[e.from] === BLIND;
      const toSymmetric = this.blind[e.to] === BLIND;
      if (!fromSymmetric && !toSymmetric && !messages.hasNodes) continue;
      const msg = world.message(e);
      let ctx = mixContext(mixContext(0x454e56, e.channel), e.count);
      ctx = mixContext(mixContext(ctx, this.blind[e.from]!), this.blind[e.to]!);
      ctx = mixContext(ctx, this.sink.valueHash(messages, msg));
      if (fromSymmetric) this.add(e.from, mixContext(ctx, 4));
      if (toSymmetric) this.add(e.to, mixContext(ctx, 5));
      this.self = e.from;
      this.peer = e.to;
      if (messages.hasNodes) messages.occurrences(msg, ctx, this.sink);
    }
    const history = world.clients?.history;
    if (history?.hasNodes) {
      this.self = this.peer = -1;
      history.occurrences(s.history, 0x484953, this.sink);
    }
  }

  /** Adds one place, hashed as `ctx`, to node `id`'s signature. */
  private add(id: number, ctx: number): void {
    this.sigA[id] = (this.sigA[id]! + ctx) | 0;
    this.sigB[id] = (this.sigB[id]! + mixContext(ctx, 0x5bd1e995)) | 0;
  }

  private bytesHash(bytes: Uint8Array): number {
    hash64(bytes, 0, bytes.length, 0x73796d, this.hashOut);
    return this.hashOut[0]! ^ Math.imul(this.hashOut[1]!, 0x9e3779b1);
  }

  /** old id → new id: node at sorted position p of a role gets id base + p. */
  private applyOrders(orders: number[][], perm: Int32Array): void {
    this.roles.forEach((r, k) => {
      const order = orders[k]!;
      for (let p = 0; p < r.count; p++) perm[r.base + order[p]!] = r.base + p;
    });
  }

  /** Symmetric nodes `a` and `b` by their sort keys: crashed, clock offset, then the blinded state (`blindedStates`, filled by `canonical`). */
  private compareKeys(s: WorldState, a: number, b: number): number {
    return s.crashed[a]! - s.crashed[b]! || s.offsets[a]! - s.offsets[b]! || compareBytes(this.blindedStates[a]!, this.blindedStates[b]!);
  }

  /** Node `id`'s state with every symmetric node id blinded, packed (cached: states are immutable). */
  private blindedState(s: WorldState, id: number): Uint8Array {
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
    return bytes;
  }

  /** A small id for a permutation (the index into the image caches). */
  private permId(perm: Int32Array): number {
    // A permutation moves symmetric nodes only, within their role: up to 13 of them fit one
    // number's 53 bits at 4 bits each, which spares a string per packed world.
    let key: number | string = 0;
    if (this.symmetricCount <= 13) {
      for (const r of this.roles) for (let i = 0; i < r.count; i++) key = key * 16 + (perm[r.base + i]! - r.base);
    } else {
      key = perm.join(',');
    }
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
