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
import { TrialMap } from './hit-trial.ts';
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
  /** Tie groups as flat [start, end, start, end, ...] positions in the role's order. */
  private readonly groups: number[][];
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
      return this.bytesHash(w.buf, w.pos); // no view: this runs for every occurrence
    },
  };
  /**
   * Canonicalizing tries a few permutations of many similar worlds, so the pieces are cached
   * (node states and envelopes are immutable): each permutation's small id by its image, a node
   * state's packed bytes under each permutation (per role), an envelope's image under each, and
   * a node state's blinded bytes (its sort key).
   */
  private readonly permIds = new Map<number | string, number>();
  private readonly stateImages = new Map<object, TrialMap<unknown, Uint8Array[]>>();
  private readonly envelopeImages = new Map<Envelope, Envelope[]>();
  private readonly blinded = new Map<object, TrialMap<unknown, Uint8Array>>();
  /**
   * Each node's images in the world being packed (by permutation id), found once per world: from
   * `stateImages` while its trial shows node states repeating across worlds, else made afresh.
   */
  private readonly worldImages: Uint8Array[][] = [];
  private readonly imagesAt: Int32Array;
  private worldNumber = 0;

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
    this.imagesAt = new Int32Array(world.nodeCount).fill(-1);
    const n = world.nodeCount;
    this.image = {
      time: 0, crashes: 0, crashed: new Uint8Array(n), offsets: new Int8Array(n), nodes: new Array<unknown>(n),
      nodeBytes: new Array<Uint8Array | null>(n).fill(null), net: [], history: [], ...NO_SOURCE,
    };
  }

  get active(): boolean {
    return this.roles.length > 0;
  }

  /** The canonical packed bytes of `s` (a view, valid until the next call). */
  canonical(s: WorldState): Uint8Array {
    if (!this.active) return this.world.encode(s);
    this.worldNumber++;
    this.current = s;
    // Per role: nodes sorted by key, and the tie groups of that order. Nothing here allocates:
    // it runs for every generated world.
    const { orders, groups } = this;
    let candidates = 1;
    for (let k = 0; k < this.roles.length; k++) {
      const r = this.roles[k]!;
      const order = orders[k]!;
      for (let i = 0; i < r.count; i++) this.blindedStates[r.base + i] = this.blindedState(s, r.base + i);
      for (let i = 0; i < r.count; i++) order[i] = r.base + i;
      insertionSort(order, 0, r.count, this.byKey);
      for (let i = 0; i < r.count; i++) order[i] = order[i]! - r.base;
      const roleGroups = groups[k]!;
      roleGroups.length = 0;
      let start = 0;
      for (let i = 1; i <= r.count; i++) {
        if (i === r.count || this.compareKeys(s, r.base + order[i]!, r.base + order[start]!) !== 0) {
          if (i - start > 1) {
            roleGroups.push(start, i);
            candidates *= factorial(i - start);
          }
          start = i;
        }
      }
    }
    // Nodes that tie on their own state are told apart, where possible, by where their ids
    // occur in the rest of the world (the value a map keys by them, the messages to them).
    if (candidates > 1) candidates = this.refine(s);
    const perm = this.perm;
    if (candidates === 1 || candidates > MAX_CANDIDATES) {
      this.applyOrders(orders, perm);
      return this.encodePermuted(s, perm, this.best);
    }
    this.found = false;
    permuteGroups(orders, groups, 0, 0, this.visit);
    return this.best.view();
  }

  /** The world `canonical` works on, for the comparators below (bound once: no closure per world). */
  private current: WorldState | null = null;
  private found = false;
  /** Scratch for `refine`'s new tie groups. */
  private readonly refined: number[] = [];
  /** The world being packed under a permutation (see `encodePermuted`). */
  private readonly image: WorldState;
  private readonly byKey = (a: number, b: number): number => this.compareKeys(this.current!, a, b) || a - b;
  private readonly bySignature = (a: number, b: number): number => this.sigA[a]! - this.sigA[b]! || this.sigB[a]! - this.sigB[b]! || a - b;
  /** Packs the world under the orders as they stand and keeps the smallest packing. */
  private readonly visit = (): void => {
    this.applyOrders(this.orders, this.perm);
    const bytes = this.encodePermuted(this.current!, this.perm, this.candidate);
    if (!this.found || compareBytes(bytes, this.best.view()) < 0) {
      this.best.reset();
      this.best.bytes(bytes);
      this.found = true;
    }
  };

  /**
   * Splits each tie group by the nodes' signatures (see {@link sign}): a group's nodes are
   * sorted by signature and only nodes with equal signatures stay tied. Returns the number of
   * orderings left to try. Exact, because a signature is invariant under the symmetry: renaming
   * the world's symmetric nodes gives node x's image the signature x had.
   */
  private refine(s: WorldState): number {
    this.sign(s);
    const { sigA, sigB, orders, groups } = this;
    let candidates = 1;
    for (let k = 0; k < this.roles.length; k++) {
      const r = this.roles[k]!;
      const order = orders[k]!;
      const roleGroups = groups[k]!;
      const refined = this.refined;
      refined.length = 0;
      for (let g = 0; g < roleGroups.length; g += 2) {
        const start = roleGroups[g]!;
        const end = roleGroups[g + 1]!;
        for (let p = start; p < end; p++) order[p] = order[p]! + r.base;
        insertionSort(order, start, end, this.bySignature);
        for (let p = start; p < end; p++) order[p] = order[p]! - r.base;
        let from = start;
        for (let p = start + 1; p <= end; p++) {
          const x = r.base + order[p]!;
          const y = r.base + order[from]!;
          if (p === end || sigA[x] !== sigA[y] || sigB[x] !== sigB[y]) {
            if (p - from > 1) {
              refined.push(from, p);
              candidates *= factorial(p - from);
            }
            from = p;
          }
        }
      }
      roleGroups.length = 0;
      for (let i = 0; i < refined.length; i++) roleGroups.push(refined[i]!);
    }
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

  /** A hash of `bytes[0..length)`. */
  private bytesHash(bytes: Uint8Array, length = bytes.length): number {
    hash64(bytes, 0, length, 0x73796d, this.hashOut);
    return this.hashOut[0]! ^ Math.imul(this.hashOut[1]!, 0x9e3779b1);
  }

  /** old id → new id: node at sorted position p of a role gets id base + p. */
  private applyOrders(orders: number[][], perm: Int32Array): void {
    for (let k = 0; k < this.roles.length; k++) {
      const r = this.roles[k]!;
      const order = orders[k]!;
      for (let p = 0; p < r.count; p++) perm[r.base + order[p]!] = r.base + p;
    }
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
    let images: Uint8Array[] | undefined = this.worldImages[id];
    if (this.imagesAt[id] !== this.worldNumber || images === undefined) {
      this.imagesAt[id] = this.worldNumber;
      images = undefined;
      const cache = cached(this.stateImages, this.world.roleOfNode[id]!);
      images = cache.get(state);
      if (images === undefined) cache.set(state, (images = []));
      this.worldImages[id] = images;
    }
    let bytes = images[pid];
    if (bytes === undefined) {
      const schema = this.world.roleOfNode[id]!.def.state;
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
    this.worldNumber++;
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
    // One scratch world serves every packing (encode copies what it keeps).
    const image = this.image;
    image.time = s.time;
    image.crashes = s.crashes;
    for (let id = 0; id < n; id++) {
      const to = perm[id]!;
      image.nodes[to] = s.nodes[id];
      image.crashed[to] = s.crashed[id]!;
      image.offsets[to] = s.offsets[id]!;
      image.nodeBytes[to] = this.stateImage(id, s.nodes[id], perm, pid);
    }
    image.net = s.net.length === 0 ? s.net : this.permuteNet(s.net, perm, pid);
    const clients = this.world.clients;
    image.history = clients && clients.history.hasNodes ? clients.history.mapNodes(s.history, perm) : s.history;
    const view = this.world.encode(image);
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
function cached<V>(caches: Map<object, TrialMap<unknown, V>>, owner: object): TrialMap<unknown, V> {
  let cache = caches.get(owner);
  if (cache === undefined) caches.set(owner, (cache = new TrialMap(CACHE_MAX)));
  return cache;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** Calls `visit` once per combination of orderings inside every tie group (Heap's algorithm). */
function permuteGroups(orders: number[][], groups: number[][], role: number, group: number, visit: () => void): void {
  if (role === orders.length) {
    visit();
    return;
  }
  const roleGroups = groups[role]!;
  if (group === roleGroups.length) {
    permuteGroups(orders, groups, role + 1, 0, visit);
    return;
  }
  const start = roleGroups[group]!;
  const end = roleGroups[group + 1]!;
  const order = orders[role]!;
  const heap = (k: number): void => {
    if (k === 1) {
      permuteGroups(orders, groups, role, group + 2, visit);
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

/** Sorts `a[from..to)` in place: the arrays here are a role's few nodes, and `Array.sort` allocates on every call. */
function insertionSort(a: number[], from: number, to: number, cmp: (x: number, y: number) => number): void {
  for (let i = from + 1; i < to; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= from && cmp(a[j]!, x) > 0) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}
