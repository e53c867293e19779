/**
 * Strongly connected components of a subgraph of the state graph: Tarjan's algorithm with an
 * explicit stack (no recursion, so no depth limit). The subgraph is the states whose `allow`
 * entry equals a stamp, so repeated calls (Emerson–Lei refinement) reuse the same arrays.
 */
import type { StateGraph } from './graph.ts';

export class SccFinder {
  private readonly index: Int32Array;
  private readonly low: Int32Array;
  private readonly seenStamp: Int32Array;
  private readonly onStack: Uint8Array;
  private readonly stack: Int32Array;
  private readonly callNode: Int32Array;
  private readonly callEdge: Int32Array;
  private stamp = 0;
  /** Per state: the stamp of the subgraph it belongs to (set by the caller). */
  readonly allow: Int32Array;

  constructor(private readonly g: StateGraph) {
    const n = g.states;
    this.index = new Int32Array(n);
    this.low = new Int32Array(n);
    this.seenStamp = new Int32Array(n);
    this.onStack = new Uint8Array(n);
    this.stack = new Int32Array(n);
    this.callNode = new Int32Array(n);
    this.callEdge = new Int32Array(n);
    this.allow = new Int32Array(n);
  }

  /** A fresh stamp for {@link allow}. */
  nextStamp(): number {
    return ++this.stamp;
  }

  /**
   * Calls `found` with each SCC (its members, a view valid during the call) of the subgraph
   * `allow[s] === stamp`, rooted from `roots` in order; `found` returning true stops.
   */
  components(roots: ArrayLike<number>, stamp: number, found: (members: Int32Array) => boolean | void): void {
    const { g, index, low, seenStamp, onStack, stack, callNode, callEdge, allow } = this;
    const visit = ++this.stamp; // stamps of visits and of subgraphs never clash
    let counter = 0;
    let sp = 0;
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      if (allow[root] !== stamp || seenStamp[root] === visit) continue;
      let depth = 0;
      callNode[0] = root;
      callEdge[0] = g.rowStart[root]!;
      seenStamp[root] = visit;
      index[root] = low[root] = counter++;
      stack[sp++] = root;
      onStack[root] = 1;
      while (depth >= 0) {
        const v = callNode[depth]!;
        const end = g.rowEnd[v]!;
        let e = callEdge[depth]!;
        let descended = false;
        while (e < end) {
          const w = g.dst[e++]!;
          if (allow[w] !== stamp) continue;
          if (seenStamp[w] !== visit) {
            callEdge[depth] = e;
            depth++;
            callNode[depth] = w;
            callEdge[depth] = g.rowStart[w]!;
            seenStamp[w] = visit;
            index[w] = low[w] = counter++;
            stack[sp++] = w;
            onStack[w] = 1;
            descended = true;
            break;
          }
          if (onStack[w] && index[w]! < low[v]!) low[v] = index[w]!;
        }
        if (descended) continue;
        if (low[v] === index[v]) {
          let top = sp;
          let w: number;
          do {
            w = stack[--sp]!;
            onStack[w] = 0;
          } while (w !== v);
          if (found(stack.subarray(sp, top))) {
            for (let i = 0; i < sp; i++) onStack[stack[i]!] = 0;
            return;
          }
        }
        depth--;
        if (depth >= 0) {
          const parent = callNode[depth]!;
          if (low[v]! < low[parent]!) low[parent] = low[v]!;
        }
      }
    }
  }
}
