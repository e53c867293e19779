/**
 * Shortening a lasso (a liveness counterexample: stem, then a cycle repeated for ever), for
 * `pacta minimize`. The checker's cycle visits a witness of every fair class of its component,
 * so it is often longer than a fair cycle needs to be.
 *
 * 1. Cycle. The states around the given cycle are explored (breadth-first from the cycle's
 *    states, through states where the property's monitor stays unsatisfied, up to a budget),
 *    recorded as the checker records them (graph.ts: classes, steps the in-flight bound cut).
 *    The cycle is then shortened greedily: a stutter on one of its states when that is fair;
 *    else, repeatedly, a stretch between two of its positions is replaced by a shortest path
 *    between the same two states when the new closed walk is still accepted — judged by the
 *    checker's own `Fairness.judge`, restricted to the walk's edges, plus, for
 *    `eventuallyAlways`, a state where p fails on the cycle. Greedy, not the exact shortest.
 * 2. Stem. Breadth-first from the initial state to any state of the new cycle, keeping the
 *    monitor's stem condition (`eventually`: ¬p all along; `leadsTo`: a p ∧ ¬q state, then ¬q to
 *    the cycle, unless the cycle itself holds a p state); the cycle is rotated to start there.
 *    When that search runs out of budget, the old stem leads to the new cycle instead (for
 *    leadsTo, the old stem and once round the old cycle).
 */
import type { LivenessProperty } from '../../specs/core/protocol.ts';
import type { Model } from '../model.ts';
import { concreteFingerprint, ReplayMismatch } from '../replay.ts';
import type { EventRef, TraceEvent, WorldState } from '../world.ts';
import { Fairness } from './fair-cycles.ts';
import { StateGraph } from './graph.ts';

/** A lasso as a run: `states[0]` is the initial state, `events[i]` leads from `states[i]` to `states[i + 1]`. */
export interface LassoRun {
  states: WorldState[];
  events: TraceEvent[];
  /** Index of the cycle's first state; the last state equals it. */
  loopStart: number;
}

export interface ShortenOptions {
  /** States explored around the cycle (default 20,000). */
  regionStates: number;
  /** States the stem's breadth-first search may visit (default 100,000). */
  stemStates: number;
  /** performance.now() after which the cycle is no longer shortened. */
  deadline: number;
}

export interface ShortenResult {
  run: LassoRun;
  cycleBefore: number;
  cycleAfter: number;
  /** States explored around the cycle, and by the stem's search. */
  regionStates: number;
  stemStates: number;
  /** False when the stem search ran out of budget (the old lasso leads to the new cycle). */
  stemShortest: boolean;
}

/** The lasso `run` of `prop`, with a shorter (never longer) cycle and stem. */
export function shortenLasso(model: Model, prop: LivenessProperty, fairDelivery: boolean, run: LassoRun, options: ShortenOptions): ShortenResult {
  const monitor = new Monitor(model, prop);
  const last = run.states.length - 1;
  const region = explore(model, prop, monitor, run.states.slice(run.loopStart), options.regionStates);
  const g = region.graph;
  const entry0 = region.indexOf(run.states[run.loopStart]!);
  const given: number[] = [];
  for (let i = run.loopStart; i < last; i++) given.push(region.edgeOf(model, run.states[i]!, run.states[i + 1]!, run.events[i]!));

  const judge = new WalkJudge(g, region.src, new Fairness(g, fairDelivery), prop.kind === 'eventuallyAlways');
  if (!judge.accepts(given, entry0)) {
    throw new ReplayMismatch(
      `the lasso's cycle (steps ${run.loopStart}..${last}) is not a fair counterexample by the checker's judgement: a weakly fair step enabled all round it, or a strongly fair step enabled on it, is never taken on it`,
    );
  }
  const walk = shortenCycle(region, judge, given, entry0, options.deadline);

  // The stem: breadth-first to any state of the new cycle.
  const cycleStates = walk.edges.length === 0 ? [walk.entry] : walk.edges.map((e) => region.src[e]!);
  const stem = shortestStem(model, monitor, cycleStates.map((i) => region.states[i]!), options.stemStates);
  let states: WorldState[];
  let events: TraceEvent[];
  let start: number;
  if (stem.found) {
    ({ states, events } = stem);
    start = stem.target;
  } else {
    // The old stem, then through the region to the new cycle. For leadsTo the old cycle may hold
    // the p state that armed the monitor: the way then goes round it once first.
    const keep = prop.kind === 'leadsTo' ? last : run.loopStart;
    states = run.states.slice(0, keep + 1);
    events = run.events.slice(0, keep);
    const path = region.path(entry0, new Set(cycleStates));
    for (const e of path) {
      events.push(model.world.describe(region.states[region.src[e]!]!, region.refs[e]!));
      states.push(region.states[g.dst[e]!]!);
    }
    start = cycleStates.indexOf(path.length === 0 ? entry0 : g.dst[path[path.length - 1]!]!);
  }
  const loopStart = states.length - 1;
  const rotated = [...walk.edges.slice(start), ...walk.edges.slice(0, start)];
  for (const e of rotated) {
    events.push(model.world.describe(region.states[region.src[e]!]!, region.refs[e]!));
    states.push(region.states[g.dst[e]!]!);
  }
  const out: LassoRun = { states, events, loopStart };
  // Never longer than what came in (a budget-bound stem may lose what the cycle won).
  const result = out.events.length < run.events.length ? out : run;
  return {
    run: result,
    cycleBefore: given.length,
    cycleAfter: result === out ? walk.edges.length : given.length,
    regionStates: region.states.length,
    stemStates: stem.visited,
    stemShortest: stem.found,
  };
}

// ------------------------------------------------------------------ the property's monitor

/** What the property asks of the states of a counterexample. */
class Monitor {
  constructor(
    private readonly model: Model,
    private readonly prop: LivenessProperty,
  ) {}

  private at(f: (w: any) => boolean, s: WorldState): boolean {
    this.model.view.state = s;
    return f(this.model.view);
  }

  /** Whether a state may lie on the cycle (and on the path from the loop to it): the monitor stays unsatisfied. */
  inRegion(s: WorldState): boolean {
    switch (this.prop.kind) {
      case 'eventuallyAlways':
        return true;
      case 'leadsTo':
        return !this.at(this.prop.q!, s);
      default:
        return !this.at(this.prop.p, s);
    }
  }

  /** The stem's monitor state after `s`, from `armed` before it; null when `s` may not lie on the stem. */
  step(s: WorldState, armed: boolean): boolean | null {
    switch (this.prop.kind) {
      case 'eventually':
        return this.at(this.prop.p, s) ? null : true;
      case 'leadsTo':
        // Armed: a p ∧ ¬q state was seen and q has not held since.
        if (this.at(this.prop.q!, s)) return false;
        return armed || this.at(this.prop.p, s);
      default:
        return true;
    }
  }

  /** Whether the stem may end unarmed (leadsTo: the cycle holds a p state, which arms it there). */
  armsOnCycle(cycle: WorldState[]): boolean {
    if (this.prop.kind !== 'leadsTo') return true;
    return cycle.some((s) => this.at(this.prop.p, s));
  }
}

// ------------------------------------------------------------------ the region around the cycle

/** The explored region, a StateGraph over local indexes, with the event of every edge. */
class Region {
  readonly states: WorldState[] = [];
  readonly refs: (EventRef | undefined)[] = [];
  src = new Int32Array(0);
  private readonly index = new Map<number, number>();

  constructor(
    private readonly model: Model,
    readonly graph: StateGraph,
  ) {}

  find(s: WorldState): number | undefined {
    const [hi, lo] = concreteFingerprint(this.model, s);
    return this.index.get(key(hi, lo));
  }

  indexOf(s: WorldState): number {
    const i = this.find(s);
    if (i === undefined) throw new Error('shortenLasso: a cycle state is missing from the explored region');
    return i;
  }

  add(s: WorldState): number {
    const [hi, lo] = concreteFingerprint(this.model, s);
    const i = this.states.length;
    this.index.set(key(hi, lo), i);
    this.states.push(s);
    this.graph.state(i, s);
    return i;
  }

  /** The edge taking trace event `event` from `a` to `b` (several events may join the same states). */
  edgeOf(model: Model, a: WorldState, b: WorldState, event: TraceEvent): number {
    const from = this.indexOf(a);
    const to = this.indexOf(b);
    const g = this.graph;
    const wanted = JSON.stringify(event);
    let any = -1;
    for (let e = g.rowStart[from]!; e < g.rowEnd[from]!; e++) {
      if (g.dst[e] !== to) continue;
      if (JSON.stringify(model.world.describe(a, this.refs[e]!)) === wanted) return e;
      any = e;
    }
    if (any < 0) throw new ReplayMismatch(`the lasso's cycle takes ${JSON.stringify(event)}, a step the checker does not explore (beyond the in-flight bound?)`);
    return any;
  }

  /** Source state of every edge (once the region is complete). */
  seal(): void {
    const g = this.graph;
    this.src = new Int32Array(g.edges);
    for (let s = 0; s < this.states.length; s++) for (let e = g.rowStart[s]!; e < g.rowEnd[s]!; e++) this.src[e] = s;
  }

  /** Edges of a shortest path from `a` to any state of `targets` (empty when `a` is one). */
  path(a: number, targets: Set<number>): number[] {
    if (targets.has(a)) return [];
    const g = this.graph;
    const via = new Map<number, number>([[a, -1]]);
    const queue = [a];
    for (let h = 0; h < queue.length; h++) {
      const v = queue[h]!;
      for (let e = g.rowStart[v]!; e < g.rowEnd[v]!; e++) {
        const w = g.dst[e]!;
        if (w < 0 || via.has(w)) continue;
        via.set(w, e);
        if (targets.has(w)) {
          const out: number[] = [];
          for (let x = w; x !== a; x = this.src[via.get(x)!]!) out.push(via.get(x)!);
          return out.reverse();
        }
        queue.push(w);
      }
    }
    throw new Error('shortenLasso: the new cycle is not reachable from the old one');
  }
}

/**
 * Breadth-first from `seeds` through region states, up to `budget` states; every state taken is
 * expanded, its steps to states left out recorded as enabled but never taken (as `cutEdge`).
 */
function explore(model: Model, prop: LivenessProperty, monitor: Monitor, seeds: WorldState[], budget: number): Region {
  const world = model.world;
  const region = new Region(model, new StateGraph(model, [prop]));
  const g = region.graph;
  for (const s of seeds) if (region.find(s) === undefined) region.add(s);
  for (let v = 0; v < region.states.length; v++) {
    const s = region.states[v]!;
    const [ph, pl] = concreteFingerprint(model, s);
    g.begin(v);
    world.successors(s, (next) => {
      const [hi, lo] = concreteFingerprint(model, next);
      if (hi === ph && lo === pl) return false; // a step that changes nothing is no step
      let w = region.find(next);
      if (w === undefined && region.states.length < budget && monitor.inRegion(next)) w = region.add(next);
      const ref = copyRef(world.event);
      if (w === undefined) g.cutEdge(v, s, ref);
      else g.edge(v, w, s, ref);
      region.refs[g.edges - 1] = ref;
      return false;
    });
    if (world.maxInFlight !== Number.POSITIVE_INFINITY) world.cutByBound(s, (e) => g.cutEdge(v, s, e));
  }
  region.seal();
  return region;
}

function copyRef(ev: EventRef): EventRef {
  return { kind: ev.kind, node: ev.node, envelope: ev.envelope, action: ev.action, arg: ev.arg };
}

// ------------------------------------------------------------------ judging and shortening the cycle

/** Accepts a closed walk (edges, or a stutter at `entry` when none) as the checker would accept a cycle. */
class WalkJudge {
  private readonly flags: Uint8Array;
  private readonly seen: Int32Array;
  private stamp = 0;
  /** Candidates judged. */
  judged = 0;

  constructor(
    private readonly g: StateGraph,
    private readonly src: Int32Array,
    private readonly fairness: Fairness,
    private readonly needsUnsettled: boolean,
  ) {
    this.flags = new Uint8Array(g.edges);
    this.seen = new Int32Array(g.states);
  }

  accepts(edges: readonly number[], entry: number): boolean {
    this.judged++;
    const g = this.g;
    const from = (e: number) => this.src[e]!;
    const id = ++this.stamp;
    const members: number[] = [];
    const add = (s: number) => {
      if (this.seen[s] !== id) {
        this.seen[s] = id;
        members.push(s);
      }
    };
    if (edges.length === 0) add(entry);
    for (const e of edges) add(from(e));
    for (const e of edges) this.flags[e] = 1;
    const verdict = this.fairness.judge(Int32Array.from(members), this.flags);
    for (const e of edges) this.flags[e] = 0;
    if (verdict !== 'fair') return false;
    // eventuallyAlways: the cycle passes through a state where p fails.
    return !this.needsUnsettled || members.some((s) => !g.holds(s, 0));
  }
}

/** Greedy shortcuts (see the module comment); returns the shortest accepted walk found. */
function shortenCycle(region: Region, judge: WalkJudge, given: number[], entry: number, deadline: number): { edges: number[]; entry: number } {
  const g = region.graph;
  const src = region.src;
  const accepts = (edges: number[], at: number) => judge.accepts(edges, at);
  // A stutter on one of the cycle's states is the shortest cycle there is.
  for (const s of given.length === 0 ? [entry] : given.map((e) => src[e]!)) if (accepts([], s)) return { edges: [], entry: s };

  let walk = given.slice();
  const n = region.states.length;
  const dist = new Int32Array(n);
  const via = new Int32Array(n);
  const mark = new Int32Array(n);
  let stamp = 0;
  let improved = true;
  while (improved && performance.now() < deadline) {
    improved = false;
    // Two passes, the second on the walk turned half round, so that stretches across its start are tried too.
    for (let turn = 0; turn < 2 && performance.now() < deadline; turn++) {
      for (let i = 0; i < walk.length && performance.now() < deadline; i++) {
        const m = walk.length;
        const at = (k: number) => src[walk[k % m]!]!;
        // Breadth-first from position i, no deeper than a saving allows.
        const id = ++stamp;
        const a = at(i);
        mark[a] = id;
        dist[a] = 0;
        const queue = [a];
        for (let h = 0; h < queue.length; h++) {
          const v = queue[h]!;
          if (dist[v]! >= m - i - 1) continue;
          for (let e = g.rowStart[v]!; e < g.rowEnd[v]!; e++) {
            const w = g.dst[e]!;
            if (w < 0 || mark[w] === id) continue;
            mark[w] = id;
            dist[w] = dist[v]! + 1;
            via[w] = e;
            queue.push(w);
          }
        }
        // The farthest position reached with a saving, whose shortcut still makes a fair walk.
        for (let j = m; j > i; j--) {
          const b = at(j);
          if (mark[b] !== id || dist[b]! >= j - i) continue;
          const path: number[] = [];
          for (let x = b; x !== a; x = src[via[x]!]!) path.push(via[x]!);
          path.reverse();
          const candidate = [...walk.slice(0, i), ...path, ...walk.slice(j)];
          if (accepts(candidate, candidate.length ? src[candidate[0]!]! : a)) {
            walk = candidate;
            improved = true;
            break;
          }
        }
        if (walk.length === 0) return { edges: [], entry: a };
      }
      const half = Math.floor(walk.length / 2);
      walk = [...walk.slice(half), ...walk.slice(0, half)];
    }
  }
  return { edges: walk, entry: src[walk[0]!]! };
}

// ------------------------------------------------------------------ the stem

/** Breadth-first from the initial state to any of `cycle`'s states, keeping the monitor's stem condition. */
function shortestStem(
  model: Model,
  monitor: Monitor,
  cycle: WorldState[],
  budget: number,
): { found: true; states: WorldState[]; events: TraceEvent[]; target: number; visited: number } | { found: false; visited: number } {
  const world = model.world;
  const targets = new Map<number, number>();
  cycle.forEach((s, i) => {
    const [hi, lo] = concreteFingerprint(model, s);
    const k = key(hi, lo);
    if (!targets.has(k)) targets.set(k, i);
  });
  const anyArming = monitor.armsOnCycle(cycle);
  type Node = { state: WorldState; parent: Node | null; ref: EventRef | null; armed: boolean; key: number };
  const init = world.initial();
  const armed0 = monitor.step(init, false);
  if (armed0 === null) return { found: false, visited: 0 };
  const seen = new Set<string>();
  const k0 = fingerprintKey(model, init);
  const done = (node: Node) => targets.has(node.key) && (node.armed || anyArming);
  const root: Node = { state: init, parent: null, ref: null, armed: armed0, key: k0 };
  seen.add(`${k0}:${armed0}`);
  let hit: Node | null = done(root) ? root : null;
  const queue: Node[] = [root];
  let visited = 1;
  for (let h = 0; h < queue.length && !hit && visited < budget; h++) {
    const node = queue[h]!;
    world.successors(node.state, (next) => {
      const armed = monitor.step(next, node.armed);
      if (armed === null) return false;
      const k = fingerprintKey(model, next);
      const sk = `${k}:${armed}`;
      if (seen.has(sk)) return false;
      seen.add(sk);
      visited++;
      const child: Node = { state: next, parent: node, ref: copyRef(world.event), armed, key: k };
      if (done(child)) {
        hit = child;
        return true;
      }
      queue.push(child);
      return visited >= budget;
    });
  }
  if (!hit) return { found: false, visited };
  const nodes: Node[] = [];
  for (let x: Node | null = hit; x; x = x.parent) nodes.push(x);
  nodes.reverse();
  const states = nodes.map((x) => x.state);
  const events: TraceEvent[] = nodes.slice(1).map((x) => world.describe(x.parent!.state, x.ref!));
  return { found: true, states, events, target: targets.get((hit as Node).key)!, visited };
}

function fingerprintKey(model: Model, s: WorldState): number {
  const [hi, lo] = concreteFingerprint(model, s);
  return key(hi, lo);
}

function key(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 0x100000000 + lo;
}
