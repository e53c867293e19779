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

export class Symmetry {
  /** Symmetric roles with at least two nodes. */
  private readonly roles: { base: number; count: number }[];
  private readonly blind: Int32Array;
  private readonly keyWriter = new Writer(256);
  private readonly candidate = new Writer(1024);
  private readonly best = new Writer(1024);
  private readonly envWriter = new Writer(64);

  constructor(private readonly world: World) {
    this.roles = world.roles.filter((r) => r.symmetric && r.count > 1).map((r) => ({ base: r.base, count: r.count }));
    this.blind = new Int32Array(world.nodeCount);
    for (let id = 0; id < world.nodeCount; id++) this.blind[id] = id;
    for (const r of this.roles) for (let i = 0; i < r.count; i++) this.blind[r.base + i] = BLIND;
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
    const schema = this.world.roleOfNode[id]!.def.state;
    schema.encode(w, schema.hasNodes ? schema.mapNodes(s.nodes[id], this.blind) : s.nodes[id]);
    return w.toBytes();
  }

  /** The packed bytes of `s` with node ids renamed by `perm` (old id → new id); a copy. */
  permuted(s: WorldState, perm: Int32Array): Uint8Array {
    return this.encodePermuted(s, perm, new Writer(256)).slice();
  }

  private encodePermuted(s: WorldState, perm: Int32Array, out: Writer): Uint8Array {
    const n = this.world.nodeCount;
    const nodes = new Array<unknown>(n);
    const crashed = new Uint8Array(n);
    const offsets = new Int8Array(n);
    const nodeBytes = new Array<Uint8Array | null>(n);
    for (let id = 0; id < n; id++) {
      const to = perm[id]!;
      const schema = this.world.roleOfNode[id]!.def.state;
      const mapped = schema.hasNodes ? schema.mapNodes(s.nodes[id], perm) : s.nodes[id];
      nodes[to] = mapped;
      crashed[to] = s.crashed[id]!;
      offsets[to] = s.offsets[id]!;
      nodeBytes[to] = null;
    }
    const net = this.permuteNet(s.net, perm);
    const clients = this.world.clients;
    const history = clients && clients.history.hasNodes ? clients.history.mapNodes(s.history, perm) : s.history;
    const view = this.world.encode({ time: s.time, crashes: s.crashes, crashed, offsets, nodes, nodeBytes, net, history, ...NO_SOURCE });
    out.reset();
    out.bytes(view);
    return out.view();
  }

  private permuteNet(net: Envelope[], perm: Int32Array): Envelope[] {
    const w = this.envWriter;
    const out: Envelope[] = net.map((e) => {
      const messages = this.world.payloadSchema(e.channel);
      const msg = this.world.message(e);
      w.reset();
      const from = perm[e.from]!;
      const to = perm[e.to]!;
      w.varint(from);
      w.varint(to);
      w.u8(e.channel);
      messages.encode(w, messages.hasNodes ? messages.mapNodes(msg, perm) : msg);
      return this.world.fresh(w.view(), e.count); // interning copies the bytes on a miss
    });
    if (this.world.options.network === 'fifo') {
      // Links in (from, to) order; a stable sort keeps each link's queue order.
      out.sort((a, b) => a.from - b.from || a.to - b.to);
    } else {
      out.sort((a, b) => compareBytes(a.bytes, b.bytes));
    }
    return out;
  }
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
