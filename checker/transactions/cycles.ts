/**
 * Shortest cycles of a given anomaly class in a dependency graph. A class says which edges a
 * cycle may use and what it must contain (exactly one `rw` edge for G-single, at least two for
 * G2, ...). The search is a breadth-first search from each transaction over (transaction,
 * counters) pairs — counters of `rw` edges (0, 1, 2+), `wr` edges, edges resting on real time,
 * edges resting on timestamps — so the first accepted return to the start is a shortest cycle
 * of that class through it. Only transactions in a non-trivial strongly connected component of
 * the allowed edges can start one.
 */
import type { Assumption, DependencyGraph, DependencyReason, DependencyType } from './dependency-graph.ts';

/** Counters of a path, as the acceptance test sees them. */
export interface CycleCounts {
  /** `rw` edges, capped at 2 */
  readonly rw: number;
  /** at least one `wr` edge */
  readonly wr: boolean;
  /** at least one edge resting on real time */
  readonly realtime: boolean;
  /** at least one edge resting on commit timestamps */
  readonly timestamp: boolean;
}

/** An anomaly class as a cycle shape. */
export interface CycleClass {
  /** Edge kinds the cycle may use. */
  readonly types: readonly DependencyType[];
  /** The strongest assumption an edge may rest on. */
  readonly assumption: Assumption;
  /** Whether a cycle with these counters belongs to the class. */
  accept(counts: CycleCounts): boolean;
}

/** One edge of a cycle. */
export interface CycleStep {
  readonly from: number;
  readonly to: number;
  readonly type: DependencyType;
  /** Why the edge exists. */
  readonly reason: string;
}

interface Arc {
  readonly to: number;
  readonly reason: DependencyReason;
  /** bits: 1 rw, 2 wr, 4 realtime, 8 timestamp */
  readonly flags: number;
}

const rank = (a: Assumption): number => (a === 'none' ? 0 : a === 'realtime' ? 1 : 2);
/** Most start transactions searched per class; beyond it the cycle found is short, not shortest. */
const MAX_STARTS = 400;

/**
 * A shortest cycle of class `cls` in `graph` (transactions as ids), or undefined when there is
 * none. With more than {@link MAX_STARTS} candidate starts only that many are tried.
 */
export function shortestCycle(graph: DependencyGraph, cls: CycleClass): CycleStep[] | undefined {
  // Index the allowed arcs by dense node number.
  const ids: number[] = [];
  const index = new Map<string, number>();
  graph.forEachNode((node, attrs) => {
    index.set(node, ids.length);
    ids.push(attrs.txn.id);
  });
  const n = ids.length;
  const arcs: Arc[][] = Array.from({ length: n }, () => []);
  const allowed = new Set(cls.types);
  graph.forEachEdge((_edge, attrs, source, target) => {
    const seen = new Set<number>();
    for (const reason of attrs.reasons) {
      if (!allowed.has(reason.type) || rank(reason.assumption) > rank(cls.assumption)) continue;
      const flags =
        (reason.type === 'rw' ? 1 : 0) |
        (reason.type === 'wr' ? 2 : 0) |
        (reason.assumption === 'realtime' ? 4 : 0) |
        (reason.assumption === 'timestamp' ? 8 : 0);
      if (seen.has(flags)) continue; // one arc per distinct effect on the counters
      seen.add(flags);
      arcs[index.get(source)!]!.push({ to: index.get(target)!, reason, flags });
    }
  });

  const starts = nodesOnCycles(arcs).slice(0, MAX_STARTS);
  // state = node * 24 + rw * 8 + wr * 4 + realtime * 2 + timestamp
  const STATES = 24;
  const dist = new Int32Array(n * STATES);
  const parent = new Int32Array(n * STATES);
  const parentArc: (Arc | undefined)[] = new Array(n * STATES);
  let best: CycleStep[] | undefined;

  for (const s of starts) {
    dist.fill(-1);
    const queue: number[] = [s * STATES];
    dist[s * STATES] = 0;
    let found: { state: number; arc: Arc; from: number } | undefined;
    for (let head = 0; head < queue.length && !found; head++) {
      const state = queue[head]!;
      const d = dist[state]!;
      if (best && d + 1 >= best.length) break; // cannot beat the best cycle found
      const node = Math.floor(state / STATES);
      const c = state % STATES;
      for (const arc of arcs[node]!) {
        const rw = Math.min(2, (c >> 3) + (arc.flags & 1));
        const nc = rw * 8 + ((c & 4) | (arc.flags & 2 ? 4 : 0)) + ((c & 2) | (arc.flags & 4 ? 2 : 0)) + ((c & 1) | (arc.flags & 8 ? 1 : 0));
        if (arc.to === s) {
          if (cls.accept({ rw, wr: (nc & 4) !== 0, realtime: (nc & 2) !== 0, timestamp: (nc & 1) !== 0 })) {
            found = { state, arc, from: node };
            break;
          }
          continue;
        }
        const next = arc.to * STATES + nc;
        if (dist[next] !== -1) continue;
        dist[next] = d + 1;
        parent[next] = state;
        parentArc[next] = arc;
        queue.push(next);
      }
    }
    if (!found) continue;
    // rebuild the path s → ... → found.from, then close it
    const steps: CycleStep[] = [];
    const step = (from: number, arc: Arc): CycleStep => ({ from: ids[from]!, to: ids[arc.to]!, type: arc.reason.type, reason: arc.reason.text });
    steps.push(step(found.from, found.arc));
    for (let state = found.state; dist[state] !== 0; state = parent[state]!) {
      steps.push(step(Math.floor(parent[state]! / STATES), parentArc[state]!));
    }
    steps.reverse();
    if (!best || steps.length < best.length) best = steps;
    if (best.length === 2) break; // no cycle is shorter (no self-loops)
  }
  return best;
}

/** Nodes in non-trivial strongly connected components (iterative Tarjan). */
function nodesOnCycles(arcs: readonly Arc[][]): number[] {
  const n = arcs.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const result: number[] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const [v, i] = top;
      if (i < arcs[v]!.length) {
        top[1]++;
        const w = arcs[v]![i]!.to;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, order[w]!);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const u = work[work.length - 1]![0];
        low[u] = Math.min(low[u]!, low[v]!);
      }
      if (low[v] === order[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        if (component.length > 1) result.push(...component);
      }
    }
  }
  return result.sort((a, b) => a - b);
}
