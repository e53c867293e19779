/** What a check returns: a result union, never an exception for a property violation. */
import type { TraceFile } from '../traces/format.ts';

export interface Stats {
  distinctStates: number;
  /** Successors computed (self-loops excluded), the initial state included. */
  statesGenerated: number;
  /** BFS levels seen, counted as TLC does (the initial state is level 1). */
  depth: number;
  seconds: number;
  statesPerSecond: number;
  /** Bytes of the visited set (hash table, fingerprints, parent links) per distinct state. */
  bytesPerState: number;
  /** Probability that two distinct states shared a fingerprint (so one was never explored). */
  collisionProbability: number;
  /** Bytes of frontier written to disk because the frontier passed its memory budget. */
  spilledBytes?: number;
  /**
   * Liveness: the recorded state graph (edges kept, bytes of its typed arrays: 8 per edge plus
   * 8 + one per predicate per state, arrays grown by doubling) and the seconds the fair-cycle
   * analysis took after the search (included in `seconds`).
   */
  graph?: { edges: number; bytes: number; analysisSeconds: number };
  /** Random mode: walks and steps taken (`depth` is then the deepest walk). */
  walks?: number;
  steps?: number;
  /** A run on a cluster of worker processes (`cluster` option): what each did and what went through Redis. */
  cluster?: ClusterStats;
}

/**
 * A cluster run (docs/distributed.md): partitioned BFS or swarm random search on worker
 * processes through Redis.
 */
export interface ClusterStats {
  kind: 'partitioned-bfs' | 'swarm';
  /** Per worker: its id, host and pid; BFS: the states it owns, the bytes of its share of the visited set. */
  workers: { worker: number; host: string; pid: number; states: number; visitedBytes?: number; statesPerSecond: number; jobs?: number }[];
  /** BFS: batches of states sent between workers, their bytes, the states in them, and Redis round trips (all workers). */
  batches?: number;
  bytesSent?: number;
  statesSent?: number;
  roundTrips?: number;
  /** Swarm: jobs done (walk and DFS jobs), and jobs run again because the worker holding them stopped. */
  jobs?: number;
  retried?: number;
  /** Swarm: states the DFS jobs visited, each job counted on its own (a state two jobs visit counts twice). */
  dfsStates?: number;
  /** Swarm: the job whose report stopped the run (a violation, deadlock or error), and its strategy in words. */
  foundBy?: { job: number; worker: number; strategy: string };
}

/** A `reachable` goal: whether some explored state satisfied it. */
export interface GoalStatus {
  name: string;
  reached: boolean;
  /** BFS depth at which it was first reached (shortest, in BFS mode). */
  depth?: number;
}

interface Common {
  spec: string;
  variant: string | null;
  params: Record<string, number | boolean | string>;
  mode: 'bfs' | 'dfs' | 'random';
  /**
   * Whether the result covers every reachable state: true for a completed BFS or DFS, false for
   * random mode (walks sample the space; "ok" there means no walk found a violation).
   */
  exhaustive: boolean;
  stats: Stats;
  goals: GoalStatus[];
  /**
   * The spec's liveness properties: whether each was checked (exhaustive single-threaded search
   * without symmetry) or why not. Absent when the spec has none.
   */
  liveness?: LivenessStatus[];
}

/** Whether a liveness property was checked, and why not. */
export interface LivenessStatus {
  name: string;
  kind: 'eventually' | 'leadsTo' | 'alwaysEventually' | 'eventuallyAlways';
  checked: boolean;
  reason?: string;
  /** Checked by random walks only, within their bound: a suspicion at most, never a proof. */
  bounded?: boolean;
}

/** Everything was explored and every property holds. */
export interface Ok extends Common {
  result: 'ok';
}

/** A property fails: an invariant in some state (with a trace), or a goal never reached (no trace). */
export interface Violation extends Common {
  result: 'violation';
  property: { name: string; kind: 'invariant' | 'reachable' | 'eventually' | 'leadsTo' | 'alwaysEventually' | 'eventuallyAlways' };
  trace?: TraceFile;
  /**
   * Random mode, liveness: the property stayed unsatisfied over the walk's last `steps` steps
   * under fair random scheduling. A suspected violation, not a proof (the trace's `bounded`).
   */
  suspected?: { steps: number };
}

/** A state where no delivery or action is enabled (only with the deadlock option). */
export interface Deadlock extends Common {
  result: 'deadlock';
  trace: TraceFile;
}

/** A limit stopped the search before it explored everything; no violation was seen. */
export interface Incomplete extends Common {
  result: 'incomplete';
  /** `memory`: the process passed `maxMemoryBytes`. */
  reason: 'max-states' | 'max-depth' | 'time' | 'interrupted' | 'memory';
}

/** Spec code threw (or returned a value its schema rejects); the trace leads to the step that did. */
export interface ErrorResult extends Common {
  result: 'error';
  error: string;
  trace?: TraceFile;
}

export type CheckResult = Ok | Violation | Deadlock | Incomplete | ErrorResult;
