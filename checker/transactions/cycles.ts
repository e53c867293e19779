/**
 * Cycle search, SCC first (as Elle does). The graph is split into strongly connected
 * components over every edge any wanted anomaly may use; a transaction outside a non-trivial
 * component is on no cycle, so a serializable history costs one linear pass. In each
 * component, anomaly classes are tried most severe first, and a class implied by one already
 * found there is skipped (G0 there implies G1c there).
 *
 * A class fixes which edges a cycle may use, what it must contain, and its level (the order
 * edges it needs: none, process, real time, timestamps; a cycle takes the highest level of its
 * edges, so a -process cycle has a process edge and no real-time one):
 *
 * | class | edges | must have |
 * |---|---|---|
 * | G0 | ww | (at level 0: a ww edge) |
 * | G1c | ww, wr | a wr edge |
 * | G-single | ww, wr, exactly one rw | |
 * | G-nonadjacent | ww, wr, rw | two or more rw, no two adjacent (around the cycle) |
 * | G2-item | ww, wr, rw | two or more rw, some two adjacent |
 *
 * Every such cycle can be rotated to begin with an edge the class requires (a wr edge for
 * G1c, an rw edge for the last three, a ww edge or an edge of the class's level for G0). The
 * search is a breadth-first search from each transaction leaving by such an edge, over
 * (transaction, state) pairs where the state holds what the shape needs (an edge of the level
 * seen; two rw edges seen; last edge rw; two adjacent rw seen), inside the sub-component of the
 * class's edges that holds the first edge (a cycle never leaves it). The first accepted return
 * to the start is a shortest cycle through it; the shortest over all starts is reported. A
 * search stops early when it cannot beat the best cycle so far, and gives up past a budget of
 * edge visits per class and component (then the cycle is short rather than shortest, or the
 * class is reported as not searched to the end).
 */
import { cycleShape, CYCLE_ANOMALIES, impliedAnomalies, type CycleAnomalyType, type CycleBase } from './models.ts';
import { kindOf, levelOf, nontrivialSccs, PROCESS, REALTIME, RW, TIMESTAMP, WR, WW, type TxnGraph } from './txn-graph.ts';

/** A cycle: edge ids of the graph, in order, the last one closing it. */
export interface FoundCycle {
  readonly type: CycleAnomalyType;
  readonly edges: readonly number[];
  /** False when the search budget ran out before every start was tried. */
  readonly shortest: boolean;
}

/** The outcome of {@link findCycles}. */
export interface CycleSearch {
  /** Per class: a shortest cycle over all components, and in how many components one was found. */
  readonly found: ReadonlyMap<CycleAnomalyType, { cycle: FoundCycle; components: number }>;
  /** Classes whose search was cut short in some component without finding a cycle there. */
  readonly incomplete: readonly CycleAnomalyType[];
  /** Non-trivial strongly connected components of the searched graph, and the largest one's size. */
  readonly components: number;
  readonly largestComponent: number;
}

/** Edge visits allowed per class per component before the search settles for what it has. */
export const DEFAULT_SEARCH_BUDGET = 20_000_000;

const LV = 1; // an edge of the class's level seen
const R2 = 2; // two or more rw edges
const LR = 4; // last edge was rw
const ADJ = 8; // two adjacent rw edges seen
const S = 16;

const isOrder = (kind: number): boolean => kind === PROCESS || kind === REALTIME || kind === TIMESTAMP;
const dataAllowed = (base: CycleBase, kind: number): boolean =>
  kind === WW || isOrder(kind) || (kind === WR && base !== 'G0') || (kind === RW && base !== 'G0' && base !== 'G1c');

/** Finds, for each wanted cycle class, a shortest cycle (see the module comment). */
export function findCycles(graph: TxnGraph, wanted: ReadonlySet<CycleAnomalyType>, budget = DEFAULT_SEARCH_BUDGET): CycleSearch {
  const classes = CYCLE_ANOMALIES.filter((c) => wanted.has(c));
  const found = new Map<CycleAnomalyType, { cycle: FoundCycle; components: number }>();
  const incomplete = new Set<CycleAnomalyType>();
  if (classes.length === 0 || graph.edgeCount === 0) return { found, incomplete: [], components: 0, largestComponent: 0 };
  const shapes = classes.map((c) => cycleShape(c));
  const maxLevel = Math.max(...shapes.map((s) => s.level));
  const anyAllowed = (w: number): boolean => levelOf(w) <= maxLevel && shapes.some((s) => dataAllowed(s.base, kindOf(w)));
  const comp = new Int32Array(graph.n);
  const sccs = nontrivialSccs(graph, anyAllowed, comp);
  const search = new ClassSearch(graph, budget);
  for (const members of sccs) {
    const skip = new Set<CycleAnomalyType>();
    for (const type of classes) {
      if (skip.has(type)) continue;
      const result = search.run(members, type);
      if (result === 'gave-up') {
        incomplete.add(type);
        continue;
      }
      if (!result) continue;
      for (const implied of impliedAnomalies(type)) if (implied !== type) skip.add(implied as CycleAnomalyType);
      const prev = found.get(type);
      if (!prev) found.set(type, { cycle: result, components: 1 });
      else found.set(type, { cycle: result.edges.length < prev.cycle.edges.length ? result : prev.cycle, components: prev.components + 1 });
    }
  }
  return { found, incomplete: [...incomplete].filter((t) => !found.has(t)), components: sccs.length, largestComponent: sccs.reduce((m, s) => Math.max(m, s.length), 0) };
}

/** One class search in one component; buffers are reused across calls. */
class ClassSearch {
  private local = new Int32Array(0);
  private seen = new Int32Array(0);
  private parentState = new Int32Array(0);
  private parentEdge = new Int32Array(0);
  private queue = new Int32Array(0);
  private stamp = 0;
  private readonly sub: Int32Array;
  /** run number per member node: membership of the current component */
  private readonly member: Int32Array;
  private runs = 0;

  constructor(
    private readonly graph: TxnGraph,
    private readonly budget: number,
  ) {
    this.local = new Int32Array(graph.n);
    this.sub = new Int32Array(graph.n);
    this.member = new Int32Array(graph.n);
  }

  private ensure(size: number): void {
    if (this.seen.length >= size) return;
    this.seen = new Int32Array(size);
    this.parentState = new Int32Array(size);
    this.parentEdge = new Int32Array(size);
    this.queue = new Int32Array(size);
    this.stamp = 0;
  }

  run(members: readonly number[], type: CycleAnomalyType): FoundCycle | undefined | 'gave-up' {
    const { graph, local, sub } = this;
    const { base, level: L } = cycleShape(type);
    const allowed = (w: number): boolean => levelOf(w) <= L && dataAllowed(base, kindOf(w));
    // the edges a cycle uses after its first one: G-single takes no second rw
    const rest = base === 'G-single' ? (w: number): boolean => allowed(w) && kindOf(w) !== RW : allowed;
    const first = (w: number): boolean => {
      if (!allowed(w)) return false;
      const kind = kindOf(w);
      if (base === 'G0') return L === 0 ? kind === WW : levelOf(w) === L;
      if (base === 'G1c') return kind === WR;
      return kind === RW;
    };
    const subs = nontrivialSccs(graph, allowed, sub, members);
    if (subs.length === 0) return undefined;
    const run = ++this.runs;
    const member = this.member;
    members.forEach((m, i) => {
      local[m] = i;
      member[m] = run;
    });
    this.ensure(members.length * S);
    const { start, edgeIds } = graph;
    const minimum = base === 'G-nonadjacent' ? 4 : 2;
    let best: number[] | undefined;
    let visits = 0;
    let cut = false;

    for (const u of members) {
      const c = sub[u]!;
      if (c < 0) continue;
      if (best && best.length === minimum) break;
      if (this.stamp >= 0x3fffffff) {
        this.seen.fill(0);
        this.stamp = 0;
      }
      const stamp = ++this.stamp;
      let head = 0;
      let tail = 0;
      let closing = -1;
      let closingFrom = -1;
      // first edges
      for (let p = start[u]!; p < start[u + 1]!; p++) {
        const e = edgeIds[p]!;
        const w = graph.edgeInfo(e);
        if (!first(w)) continue;
        const v = graph.edgeTo(e);
        if (member[v] !== run || sub[v] !== c) continue;
        const st = (L === 0 || levelOf(w) === L ? LV : 0) | (kindOf(w) === RW ? LR : 0);
        const idx = local[v]! * S + st;
        if (this.seen[idx] === stamp) continue;
        this.seen[idx] = stamp;
        this.parentState[idx] = -1;
        this.parentEdge[idx] = e;
        this.queue[tail++] = idx;
      }
      // breadth-first, by levels so that the depth is known
      let depth = 1;
      while (head < tail && closing < 0) {
        if (best && depth + 1 >= best.length) break;
        const levelEnd = tail;
        for (; head < levelEnd && closing < 0; head++) {
          const idx = this.queue[head]!;
          const x = members[(idx / S) | 0]!;
          const st = idx % S;
          for (let p = start[x]!; p < start[x + 1]!; p++) {
            const e = edgeIds[p]!;
            const w = graph.edgeInfo(e);
            if (!rest(w)) continue;
            const y = graph.edgeTo(e);
            if (member[y] !== run || sub[y] !== c) continue;
            visits++;
            const isRw = kindOf(w) === RW;
            if (base === 'G-nonadjacent' && isRw && st & LR) continue;
            let next = st & ~LR;
            if (L === 0 || levelOf(w) === L) next |= LV;
            if (isRw) {
              next |= LR | R2;
              if (st & LR) next |= ADJ;
            }
            if (y === u) {
              if (!(next & LV)) continue;
              if (base === 'G-nonadjacent' && (!(next & R2) || isRw)) continue;
              if (base === 'G2-item' && !(next & R2 && (next & ADJ || isRw))) continue;
              closing = e;
              closingFrom = idx;
              break;
            }
            const ni = local[y]! * S + next;
            if (this.seen[ni] === stamp) continue;
            this.seen[ni] = stamp;
            this.parentState[ni] = idx;
            this.parentEdge[ni] = e;
            this.queue[tail++] = ni;
          }
        }
        depth++;
        if (visits > this.budget) {
          cut = true;
          break;
        }
      }
      if (closing >= 0) {
        const edges = [closing];
        for (let idx = closingFrom; idx >= 0; idx = this.parentState[idx]!) edges.push(this.parentEdge[idx]!);
        edges.reverse();
        if (!best || edges.length < best.length) best = edges;
      }
      if (cut) break;
    }
    if (!best) return cut ? 'gave-up' : undefined;
    return { type, edges: best, shortest: !cut };
  }
}
