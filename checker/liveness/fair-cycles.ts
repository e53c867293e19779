/**
 * Liveness by fair cycles over the recorded state graph (graph.ts). Each property becomes a
 * question about a region of the graph, the product with a small monitor:
 *
 * - `eventually p`: a fair cycle reachable from the initial state through ¬p states only;
 * - `leadsTo p q`: after a p ∧ ¬q state, a fair cycle reachable through ¬q states ("pending");
 * - `alwaysEventually p`: a fair cycle, reachable at all, made of ¬p states;
 * - `eventuallyAlways p`: a fair cycle, reachable at all, through some ¬p state (the whole graph
 *   is the region; a fair component is a violation when it holds a ¬p state).
 *
 * A region's strongly connected components (iterative Tarjan, scc.ts) are tested for fairness:
 * a weakly fair class is met when some edge inside the component takes it or some state of it
 * has it disabled; a strongly fair class when some edge inside takes it or no state of it has it
 * enabled — when that fails, the states where it is enabled are dropped and the rest split into
 * components again (Emerson–Lei). Every state may stutter (TLA+ behaviours may): a component of
 * one state is a cycle, fair when no fair class is enabled there (a terminal state, or one where
 * only unfair events — crashes, drops, invocations — are possible).
 *
 * A violation is a lasso: the stem from the initial state (parent links of the search, then the
 * region's breadth-first links) and a cycle inside the component found by breadth-first search
 * through one witness per fair class (an edge taking it, or a state where it is disabled).
 */
import type { LivenessProperty } from '../../specs/core/protocol.ts';
import { DELIVERY, STRONG, UNFAIR, WEAK, type StateGraph } from './graph.ts';
import { SccFinder } from './scc.ts';

/** A lasso of state indexes: `stem` from the initial state to the cycle's first state, `cycle` from it back to it. */
export interface Lasso {
  stem: number[];
  /** Starts and ends at `stem`'s last state; that state alone means stuttering there forever. */
  cycle: number[];
}

/** What the search's visited set knows of each state. */
export interface SearchTree {
  parent(index: number): number;
  depth(index: number): number;
}

/** The first fair cycle violating property `i` (of `g.properties`), or null when it holds. */
export function findViolation(g: StateGraph, tree: SearchTree, i: number, fairDelivery: boolean, scc = new SccFinder(g)): Lasso | null {
  const prop = g.properties[i]!;
  const n = g.states;
  const k = g.predicateIndex(i);
  const settles = prop.kind === 'eventuallyAlways';
  const inRegion = (s: number) => (settles ? true : prop.kind === 'leadsTo' ? !g.holds(s, k + 1) : !g.holds(s, k));
  const sources: number[] = [];
  if (prop.kind === 'eventually' || settles) {
    if (n > 0 && inRegion(0)) sources.push(0);
  } else {
    for (let s = 0; s < n; s++) if (inRegion(s) && (prop.kind === 'alwaysEventually' || g.holds(s, k))) sources.push(s);
    sources.sort((a, b) => tree.depth(a) - tree.depth(b));
  }
  if (sources.length === 0) return null;

  // The region reachable from the sources through region states: breadth-first links and costs.
  const via = new Int32Array(n).fill(-2);
  const cost = new Int32Array(n);
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (const s of sources) {
    if (via[s] !== -2) continue;
    via[s] = -1;
    cost[s] = tree.depth(s);
    order[tail++] = s;
  }
  while (head < tail) {
    const v = order[head++]!;
    for (let e = g.rowStart[v]!; e < g.rowEnd[v]!; e++) {
      const w = g.dst[e]!;
      if (via[w] !== -2 || !inRegion(w)) continue;
      via[w] = v;
      cost[w] = cost[v]! + 1;
      order[tail++] = w;
    }
  }
  const region = scc.nextStamp();
  for (let j = 0; j < tail; j++) scc.allow[order[j]!] = region;

  const fairness = new Fairness(g, fairDelivery);
  let best: { members: Int32Array; entry: number } | null = null;
  // eventuallyAlways: only components that hold a ¬p state, and the cycle passes through one.
  const unsettled = (members: Int32Array): number => {
    for (const s of members) if (!g.holds(s, k)) return s;
    return -1;
  };
  const consider = (members: Int32Array): void => {
    if (settles && unsettled(members) < 0) return;
    const verdict = fairness.judge(members);
    if (verdict === 'fair') {
      let entry = members[0]!;
      for (const s of members) if (cost[s]! < cost[entry]!) entry = s;
      if (!best || cost[entry]! < cost[best.entry]!) best = { members: members.slice(), entry };
    } else if (verdict !== 'unfair') {
      work.push(verdict);
    }
  };
  const work: Int32Array[] = [];
  scc.components(order.subarray(0, tail), region, consider);
  // Emerson–Lei: components that failed only a strong class, without the states enabling it.
  while (work.length > 0) {
    const part = work.pop()!;
    const stamp = scc.nextStamp();
    for (const s of part) scc.allow[s] = stamp;
    scc.components(part, stamp, consider);
  }
  if (!best) return null;
  const { members, entry } = best as { members: Int32Array; entry: number };

  // The stem: search-tree path to the region's source, then the region's links to the entry.
  const stem: number[] = [];
  let s = entry;
  while (via[s] !== -1) {
    stem.push(s);
    s = via[s]!;
  }
  for (let t = s; t >= 0; t = tree.parent(t)) stem.push(t);
  stem.reverse();
  return { stem, cycle: fairness.cycle(members, entry, settles ? unsettled(members) : -1) };
}

export type Verdict = 'fair' | 'unfair' | Int32Array;

/**
 * Fairness of components: per class, whether it is taken inside and in how many states enabled.
 * Given `walk` (a flag per edge), only the flagged edges count as taken: the verdict is then that
 * of the closed walk through those edges (the lasso minimizer judges its candidate cycles so).
 */
export class Fairness {
  private readonly kind: Uint8Array;
  private readonly evalOf: Int32Array;
  private readonly enabledIn: Int32Array;
  private readonly lastState: Int32Array;
  private readonly taken: Uint8Array;
  /** A witness per class: an edge inside taking it. */
  private readonly takenAt: Int32Array;
  private readonly member: Int32Array;
  private evalId = 0;
  private touched: number[] = [];

  constructor(
    private readonly g: StateGraph,
    fairDelivery: boolean,
  ) {
    const c = g.classCount;
    this.kind = new Uint8Array(c);
    for (let j = 0; j < c; j++) {
      const k = g.classKind[j]!;
      this.kind[j] = k === DELIVERY ? (fairDelivery ? WEAK : UNFAIR) : k;
    }
    this.evalOf = new Int32Array(c);
    this.enabledIn = new Int32Array(c);
    this.lastState = new Int32Array(c);
    this.taken = new Uint8Array(c);
    this.takenAt = new Int32Array(c);
    this.member = new Int32Array(g.states);
  }

  /** Tallies the classes of a component (marks its members with the evaluation's id). */
  private tally(members: ArrayLike<number>, walk?: Uint8Array): void {
    const g = this.g;
    const id = ++this.evalId;
    this.touched = [];
    for (let j = 0; j < members.length; j++) this.member[members[j]!] = id;
    for (let j = 0; j < members.length; j++) {
      const s = members[j]!;
      for (let e = g.rowStart[s]!; e < g.rowEnd[s]!; e++) {
        const c = g.cls[e]!;
        if (this.kind[c] === UNFAIR) continue;
        if (this.evalOf[c] !== id) {
          this.evalOf[c] = id;
          this.enabledIn[c] = 0;
          this.lastState[c] = -1;
          this.taken[c] = 0;
          this.touched.push(c);
        }
        if (this.lastState[c] !== s) {
          this.lastState[c] = s;
          this.enabledIn[c]++;
        }
        if (!this.taken[c] && this.member[g.dst[e]!] === id && (!walk || walk[e] === 1)) {
          this.taken[c] = 1;
          this.takenAt[c] = e;
        }
      }
    }
  }

  /** 'fair', 'unfair' (a weak class always enabled, never taken), or the states left once strong failures are dropped. */
  judge(members: Int32Array, walk?: Uint8Array): Verdict {
    this.tally(members, walk);
    let strongBad: number[] | null = null;
    for (const c of this.touched) {
      if (this.taken[c]) continue;
      if (this.kind[c] === WEAK) {
        if (this.enabledIn[c] === members.length) return 'unfair';
      } else if (this.kind[c] === STRONG) {
        (strongBad ??= []).push(c);
      }
    }
    if (!strongBad) return 'fair';
    const g = this.g;
    const bad = new Set(strongBad);
    const keep: number[] = [];
    for (const s of members) {
      let ok = true;
      for (let e = g.rowStart[s]!; e < g.rowEnd[s]! && ok; e++) if (bad.has(g.cls[e]!)) ok = false;
      if (ok) keep.push(s);
    }
    return keep.length === 0 ? 'unfair' : Int32Array.from(keep);
  }

  /**
   * A cycle through a fair component from `entry` back to it, passing one witness per fair class
   * enabled somewhere in it: an inside edge taking the class, or a state where it is disabled.
   */
  cycle(members: Int32Array, entry: number, through = -1): number[] {
    const g = this.g;
    this.tally(members);
    const id = this.evalId;
    const waypoints: ({ edge: number } | { state: number })[] = through >= 0 ? [{ state: through }] : [];
    for (const c of this.touched) {
      if (this.taken[c]) waypoints.push({ edge: this.takenAt[c]! });
      else if (this.kind[c] === WEAK) {
        for (const s of members) {
          let enabled = false;
          for (let e = g.rowStart[s]!; e < g.rowEnd[s]! && !enabled; e++) if (g.cls[e] === c) enabled = true;
          if (!enabled) {
            waypoints.push({ state: s });
            break;
          }
        }
      }
    }
    const out = [entry];
    let at = entry;
    const goTo = (target: number) => {
      const path = this.path(at, target, id);
      for (let j = 1; j < path.length; j++) out.push(path[j]!);
      at = target;
    };
    for (const w of waypoints) {
      if ('edge' in w) {
        const from = this.sourceOf(w.edge, members);
        goTo(from);
        out.push(g.dst[w.edge]!);
        at = g.dst[w.edge]!;
      } else {
        goTo(w.state);
      }
    }
    goTo(entry);
    return out;
  }

  /** The state whose row holds edge `e` (among the members). */
  private sourceOf(e: number, members: Int32Array): number {
    for (const s of members) if (this.g.rowStart[s]! <= e && e < this.g.rowEnd[s]!) return s;
    throw new Error('liveness: a witness edge has no source in its component');
  }

  /** A shortest path from `a` to `b` inside the component marked `id` (a alone when a === b). */
  private path(a: number, b: number, id: number): number[] {
    if (a === b) return [a];
    const g = this.g;
    const via = new Map<number, number>([[a, -1]]);
    const queue = [a];
    for (let h = 0; h < queue.length; h++) {
      const v = queue[h]!;
      for (let e = g.rowStart[v]!; e < g.rowEnd[v]!; e++) {
        const w = g.dst[e]!;
        if (this.member[w] !== id || via.has(w)) continue;
        via.set(w, v);
        if (w === b) {
          const out = [b];
          for (let x = v; x !== -1; x = via.get(x)!) out.push(x);
          return out.reverse();
        }
        queue.push(w);
      }
    }
    throw new Error('liveness: no path inside a strongly connected component');
  }
}

/** The kinds of liveness property, for messages. */
export function describeKind(p: LivenessProperty): string {
  return p.kind === 'leadsTo' ? 'leads to' : p.kind === 'alwaysEventually' ? 'always eventually' : p.kind === 'eventuallyAlways' ? 'eventually always' : 'eventually';
}
