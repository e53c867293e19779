/**
 * Exhaustive search, BFS or DFS from one core: the only difference is whether the frontier is
 * a queue or a stack. States live as packed bytes in the frontier and as 64-bit fingerprints
 * with parent links in the visited set; paths are rebuilt on demand.
 */
import { Frontier } from './frontier.ts';
import type { Model } from './model.ts';
import type { GoalStatus, Stats } from './result.ts';
import { Collapser } from './collapsed.ts';
import { LevelWriter, type LevelChunk } from './level-spill.ts';
import { RecentSet } from './recent-set.ts';
import { StateStore } from './state-store.ts';
import { Search } from './search.ts';
import { HandlerError, type EventRef, type TraceEvent, type WorldState } from './world.ts';
import type { FingerprintPath } from './trace-builder.ts';
import type { StateGraph } from './liveness/graph.ts';

/** How an exhaustive search ended. Paths are fingerprint paths, rebuilt into traces by the caller. */
export type SearchOutcome =
  | { kind: 'done' }
  | { kind: 'violation'; property: string; path: FingerprintPath }
  | { kind: 'deadlock'; path: FingerprintPath }
  | { kind: 'limit'; reason: 'max-states' | 'max-depth' | 'time' | 'interrupted' | 'memory' }
  | { kind: 'error'; error: string; path: FingerprintPath; event: TraceEvent | null }
  /** BFS reached a level worth worker threads (see `handOffLevelStates`): parallel.ts goes on from it. */
  | { kind: 'handoff'; level: LevelChunk[]; depth: number; store: StateStore };

export interface SearchResult {
  outcome: SearchOutcome;
  stats: Stats;
  goals: GoalStatus[];
  /** The search's counters and goals, for a parallel search that goes on from this one. */
  search?: Search;
  /** The visited set (parent links and depths, for liveness counterexamples' stems). */
  store?: StateStore;
}


/** The level being started (its first state just popped, the rest in the frontier), packed. */
function packLevel(frontier: Frontier, collapser: Collapser | null, model: Model): LevelChunk[] {
  const out = new LevelWriter();
  const packed = (entry: Uint8Array) => (collapser ? model.pack(collapser.expand(entry, true)) : entry);
  out.push(packed(frontier.current));
  while (frontier.length > 0) {
    frontier.pop();
    out.push(packed(frontier.current));
  }
  return out.finish();
}

/** The same frontier, in the same order, with each record turned into packed bytes. */
function unpackFrontier(from: Frontier, collapser: Collapser, model: Model, lifo: boolean, memoryBytes: number): Frontier {
  const to = new Frontier(lifo, memoryBytes);
  const move = (index: number, record: Uint8Array) => {
    const bytes = model.pack(collapser.expand(record, true));
    to.push(index, bytes, bytes.length);
  };
  if (!lifo) {
    while (from.length > 0) move(from.pop(), from.current);
  } else {
    // A stack pops newest first: hold the entries and push them back oldest first.
    const held: [number, Uint8Array][] = [];
    while (from.length > 0) held.push([from.pop(), from.current.slice()]);
    for (let i = held.length - 1; i >= 0; i--) move(held[i]![0], held[i]![1]);
  }
  from.close();
  return to;
}

/** How the frontier holds states (tests force each path). */
export interface FrontierTuning {
  /** Keep states as records of interned components (collapsed.ts) where the world allows. */
  collapse: boolean;
  /**
   * Records turn into packed bytes (checked every 1024 expansions) once the interned components
   * pass `collapseMinEntries` and `collapseMaxShare` of the states: then they save nothing.
   */
  collapseMinEntries: number;
  collapseMaxShare: number;
  /** BFS: stop at the first level of at least this many states and hand it off (packed). */
  handOffLevelStates?: number;
  /** BFS: or at the first level that starts this many milliseconds into the search. */
  handOffAfterMs?: number;
  /**
   * Tests: told of every successor edge, visited or skipped, with the parent's fingerprint, the
   * event (the world's, valid during the call) and the successor's fingerprint.
   */
  observeEdge?: (parent: WorldState, parentFp: readonly [number, number], event: EventRef, hi: number, lo: number) => void;
  /**
   * Liveness: record the state graph here (states by index, labelled edges, predicates). Only
   * set when the spec has liveness properties: without it nothing is recorded.
   */
  record?: StateGraph;
}

export const defaultTuning: FrontierTuning = { collapse: true, collapseMinEntries: 1 << 16, collapseMaxShare: 0.5 };

export function exhaustive(model: Model, tuning: FrontierTuning = defaultTuning): SearchResult {
  const o = model.options;
  const world = model.world;
  const store = new StateStore(1 << 10);
  let frontier = new Frontier(o.mode === 'dfs', o.frontierMemoryBytes);
  // States wait in the frontier as records of interned components while those stay few (see
  // collapsed.ts); packed bytes otherwise. FIFO fingerprints hash packed bytes: no records there.
  // Without the fast path, states wait packed and are decoded plainly (the reference explorer).
  let collapser = !tuning.collapse || !o.fastPath || model.symmetry || o.world.network === 'fifo' ? null : new Collapser(world);
  const pack = (s: WorldState): Uint8Array => (collapser ? collapser.collapse(s) : model.pack(s));
  const search = new Search(model);
  let depthLimited = false;
  let outcome: SearchOutcome = { kind: 'done' };

  const pathTo = (index: number): FingerprintPath => {
    const indexes: number[] = [];
    for (let i = index; i >= 0; i = store.parent(i)) indexes.push(i);
    return store.fingerprintsOf(indexes.reverse());
  };

  /** Checks goals and invariants on a new state; returns true when the search must stop. */
  const examine = (s: WorldState, index: number, depth: number): boolean => {
    const bad = search.examine(s, depth);
    if (bad) {
      outcome = { kind: 'violation', property: bad.name, path: pathTo(index) };
      return true;
    }
    return false;
  };

  // Successor callback state, set before each expansion (one closure for the whole run).
  let parentIndex = 0;
  let childDepth = 0;
  const fp = model.fp;
  const observe = tuning.observeEdge;
  const graph = tuning.record;
  let parentFp: readonly [number, number] = [0, 0];
  let current: WorldState | null = null;
  /** A successor just inserted into the visited set at `index`: checked, then queued. */
  const queue = (next: WorldState, index: number): boolean => {
    recent.add(fp[0]!, fp[1]!);
    const bytes = pack(next);
    if (childDepth + 1 > search.depth) search.depth = childDepth + 1;
    if (examine(next, index, childDepth)) return true;
    if (store.size >= o.maxStates) {
      outcome = { kind: 'limit', reason: 'max-states' };
      return true;
    }
    frontier.push(index, bytes, bytes.length);
    return false;
  };
  // Two callbacks, so that the one every run uses stays small enough to be inlined.
  const visit = !observe && !graph
    ? (next: WorldState): boolean => {
        search.generated++;
        model.fingerprint(next);
        const index = store.insert(fp[0]!, fp[1]!, parentIndex, childDepth);
        return index >= 0 && queue(next, index);
      }
    : (next: WorldState): boolean => {
        search.generated++;
        model.fingerprint(next);
        if (observe) observe(current!, parentFp, world.event, fp[0]!, fp[1]!);
        const index = store.insert(fp[0]!, fp[1]!, parentIndex, childDepth);
        if (graph) {
          if (index >= 0) graph.state(index, next);
          graph.edge(parentIndex, index >= 0 ? index : store.find(fp[0]!, fp[1]!), current!, world.event);
        }
        return index >= 0 && queue(next, index);
      };

  // Successors already visited are recognized from their fingerprint before they are built.
  const recent = new RecentSet();
  const seen = model.symmetry || !o.fastPath
    ? undefined
    : !observe && !graph
      ? (hi: number, lo: number): boolean => {
          if (!recent.visitedIn(store, hi, lo)) return false;
          search.generated++;
          return true;
        }
      : (hi: number, lo: number): boolean => {
          if (!recent.visitedIn(store, hi, lo)) return false;
          search.generated++;
          if (observe) observe(current!, parentFp, world.event, hi >>> 0, lo >>> 0);
          if (graph) graph.edge(parentIndex, store.find(hi, lo), current!, world.event);
          return true;
        };

  try {
    const init = world.initial();
    model.fingerprint(init);
    store.insert(fp[0]!, fp[1]!, -1, 0);
    if (graph) graph.state(0, init);
    const bytes = pack(init);
    search.generated = 1;
    search.depth = 1;
    if (!examine(init, 0, 0)) frontier.push(0, bytes, bytes.length);

    let expanded = 0;
    const handOffAt = o.mode === 'bfs' ? (tuning.handOffLevelStates ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const handOffAfter = o.mode === 'bfs' && tuning.handOffAfterMs !== undefined ? performance.now() + tuning.handOffAfterMs : Number.POSITIVE_INFINITY;
    let levelDepth = -1;
    while (frontier.length > 0 && outcome.kind === 'done') {
      parentIndex = frontier.pop();
      const depth = store.depth(parentIndex);
      if (depth > levelDepth) {
        // A BFS level starts: every state in the frontier is at this depth.
        levelDepth = depth;
        if (frontier.length + 1 >= handOffAt || (handOffAfter !== Number.POSITIVE_INFINITY && performance.now() >= handOffAfter)) {
          outcome = { kind: 'handoff', level: packLevel(frontier, collapser, model), depth, store };
          break;
        }
      }
      if (!search.expands(depth)) {
        depthLimited = true;
        continue;
      }
      childDepth = depth + 1;
      current = collapser ? collapser.expand(frontier.current) : world.decode(frontier.current, true);
      if (observe) {
        model.fingerprint(current);
        parentFp = [fp[0]!, fp[1]!];
      }
      if (graph) graph.begin(parentIndex);
      const enabled = world.successors(current, visit, seen);
      if (graph && o.world.maxInFlight !== Number.POSITIVE_INFINITY) {
        const from = current;
        world.cutByBound(from, (e) => graph.cutEdge(parentIndex, from, e));
      }
      if (enabled === 0 && o.deadlock && outcome.kind === 'done') {
        outcome = { kind: 'deadlock', path: pathTo(parentIndex) };
      }
      if ((++expanded & 1023) === 0) {
        if (collapser && collapser.entries > tuning.collapseMinEntries && collapser.entries > tuning.collapseMaxShare * store.size) {
          search.spilledBytes += frontier.spilledBytes;
          frontier = unpackFrontier(frontier, collapser, model, o.mode === 'dfs', o.frontierMemoryBytes);
          collapser = null;
        }
        const now = performance.now();
        const limit = search.limit(0, now);
        if (limit === 'time' || limit === 'interrupted' || limit === 'memory') {
          outcome = { kind: 'limit', reason: limit };
          break;
        }
        search.progress(store.size, search.depth, frontier.length, now);
      }
    }
  } catch (e) {
    if (!(e instanceof HandlerError)) throw e;
    const path = current ? pathTo(parentIndex) : [];
    const event = current ? world.describe(current) : null;
    outcome = { kind: 'error', error: e.message, path, event };
  } finally {
    search.spilledBytes += frontier.spilledBytes;
    frontier.close();
  }
  if (outcome.kind === 'done' && depthLimited) outcome = { kind: 'limit', reason: 'max-depth' };
  return { outcome, stats: search.stats(store.size, store.bytesPerState()), goals: search.goals, search, store };
}
