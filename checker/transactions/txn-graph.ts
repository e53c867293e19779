/**
 * The transaction dependency graph in typed arrays, built for histories of millions of
 * transactions: edges are appended to growable arrays (from, to, an info word, a key id), then
 * frozen into a compressed adjacency (CSR). Nodes are transaction ids; only transactions that
 * took effect get edges. An edge carries its kind (ww, wr, rw, or an order: process, realtime,
 * timestamp), its level (the order assumption it rests on: none, process, real time,
 * timestamp; a cycle's level is the highest of its edges) and, for data edges, the key and a
 * reason code; the words of an explanation are derived from these only for reported cycles.
 */

/** Edge kinds. */
export const WW = 1;
export const WR = 2;
export const RW = 3;
export const PROCESS = 4;
export const REALTIME = 5;
export const TIMESTAMP = 6;
export type EdgeKind = typeof WW | typeof WR | typeof RW | typeof PROCESS | typeof REALTIME | typeof TIMESTAMP;
export const KIND_NAMES = ['', 'ww', 'wr', 'rw', 'process', 'realtime', 'timestamp'] as const;
export type EdgeKindName = Exclude<(typeof KIND_NAMES)[number], ''>;

/**
 * Why a version order fact holds (rw-register): the initial nil precedes every version; a
 * transaction's write follows its own read; process, real-time or timestamp order of the
 * transactions that touched the key; list-append: the order of elements in the reads.
 */
export const WHY_READS = 0;
export const WHY_INITIAL = 1;
export const WHY_WFR = 2;
export const WHY_PROCESS = 3;
export const WHY_REALTIME = 4;
export const WHY_TIMESTAMP = 5;

/** info word: kind (3 bits) | level (2 bits) << 3 | why (3 bits) << 5 */
export const info = (kind: EdgeKind, level: number, why = 0): number => kind | (level << 3) | (why << 5);
export const kindOf = (i: number): EdgeKind => (i & 7) as EdgeKind;
export const levelOf = (i: number): number => (i >> 3) & 3;
export const whyOf = (i: number): number => (i >> 5) & 7;

/** A growable edge list, then a frozen adjacency. */
export class TxnGraph {
  /** number of nodes (transaction ids 0..n-1) */
  readonly n: number;
  private from: Int32Array<ArrayBuffer>;
  private to: Int32Array<ArrayBuffer>;
  private infos: Int32Array<ArrayBuffer>;
  private keys: Int32Array<ArrayBuffer>;
  private count = 0;
  /** CSR after {@link freeze}: out-edges of node u are edgeIds[start[u] .. start[u+1]) */
  start: Int32Array = new Int32Array(0);
  edgeIds: Int32Array = new Int32Array(0);

  /** `capacity`: expected edge count (the arrays grow past it). */
  constructor(n: number, capacity = 4 * n + 16) {
    this.n = n;
    this.from = new Int32Array(capacity);
    this.to = new Int32Array(capacity);
    this.infos = new Int32Array(capacity);
    this.keys = new Int32Array(capacity);
  }

  get edgeCount(): number {
    return this.count;
  }

  /** Adds an edge; self-edges are dropped (a transaction never depends on itself). */
  add(from: number, to: number, infoWord: number, key = -1): void {
    if (from === to) return;
    if (this.count === this.from.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.from = grow(this.from);
      this.to = grow(this.to);
      this.infos = grow(this.infos);
      this.keys = grow(this.keys);
    }
    const e = this.count++;
    this.from[e] = from;
    this.to[e] = to;
    this.infos[e] = infoWord;
    this.keys[e] = key;
  }

  edgeFrom(e: number): number {
    return this.from[e]!;
  }
  edgeTo(e: number): number {
    return this.to[e]!;
  }
  edgeInfo(e: number): number {
    return this.infos[e]!;
  }
  edgeKey(e: number): number {
    return this.keys[e]!;
  }

  /** Builds the adjacency. Call once, after the last {@link add}. */
  freeze(): void {
    const n = this.n;
    const start = new Int32Array(n + 1);
    for (let e = 0; e < this.count; e++) start[this.from[e]! + 1]!++;
    for (let u = 0; u < n; u++) start[u + 1]! += start[u]!;
    const fill = start.slice(0, n);
    const ids = new Int32Array(this.count);
    for (let e = 0; e < this.count; e++) ids[fill[this.from[e]!]!++] = e;
    this.start = start;
    this.edgeIds = ids;
  }
}

/**
 * Strongly connected components (iterative Tarjan) of the subgraph of `graph` induced by
 * `nodes` (all nodes when omitted) and the edges `allow` accepts. Returns the components with
 * more than one node (no self-edges exist), and fills `comp` (indexed by node) with the
 * component number for nodes in them, -1 for the others among `nodes`.
 */
export function nontrivialSccs(graph: TxnGraph, allow: (infoWord: number) => boolean, comp: Int32Array, nodes?: readonly number[] | Int32Array): number[][] {
  const n = graph.n;
  const order = scratch(n, 'order');
  const low = scratch(n, 'low');
  const inScope = nodes ? scratch(n, 'scope') : undefined;
  const list = nodes ?? allNodes(n);
  if (stampCounter >= 0x3fffffff && inScope) {
    inScope.fill(0);
    stampCounter = 0;
  }
  const stamp = ++stampCounter;
  for (const v of list) {
    order[v] = -1;
    comp[v] = -1;
    if (inScope) inScope[v] = stamp;
  }
  const onStack = scratch8(n);
  const stack: number[] = [];
  const result: number[][] = [];
  const workNode: number[] = [];
  const workPos: number[] = [];
  const { start, edgeIds } = graph;
  let counter = 0;
  for (const root of list) {
    if (order[root] !== -1) continue;
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    workNode.push(root);
    workPos.push(start[root]!);
    while (workNode.length > 0) {
      const top = workNode.length - 1;
      const v = workNode[top]!;
      const p = workPos[top]!;
      if (p < start[v + 1]!) {
        workPos[top] = p + 1;
        const e = edgeIds[p]!;
        if (!allow(graph.edgeInfo(e))) continue;
        const w = graph.edgeTo(e);
        if (inScope && inScope[w] !== stamp) continue;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          workNode.push(w);
          workPos.push(start[w]!);
        } else if (onStack[w] && order[w]! < low[v]!) {
          low[v] = order[w]!;
        }
        continue;
      }
      workNode.pop();
      workPos.pop();
      if (workNode.length > 0) {
        const u = workNode[workNode.length - 1]!;
        if (low[v]! < low[u]!) low[u] = low[v]!;
      }
      if (low[v] === order[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          members.push(w);
        } while (w !== v);
        if (members.length > 1) {
          for (const m of members) comp[m] = result.length;
          result.push(members);
        }
      }
    }
  }
  return result;
}

let identity = new Int32Array(0);
function allNodes(n: number): Int32Array {
  if (identity.length !== n) {
    identity = new Int32Array(n);
    for (let i = 0; i < n; i++) identity[i] = i;
  }
  return identity;
}

// Scratch arrays reused across calls (the checker runs once per explored state in the model
// checker, so allocation per call matters for small graphs as much as size does for large ones).
let stampCounter = 0;
const scratchArrays = new Map<string, Int32Array>();
function scratch(n: number, name: string): Int32Array {
  let a = scratchArrays.get(name);
  if (!a || a.length < n) {
    a = new Int32Array(Math.max(n, 64));
    scratchArrays.set(name, a);
    if (name === 'scope') stampCounter = 0;
  }
  return a;
}
let scratchOnStack = new Uint8Array(64);
function scratch8(n: number): Uint8Array {
  if (scratchOnStack.length < n) scratchOnStack = new Uint8Array(n);
  return scratchOnStack;
}
