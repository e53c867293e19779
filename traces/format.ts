/**
 * The trace file format: versioned JSON holding everything needed to replay a counterexample —
 * the spec, variant, params, options and seed, the property violated, and each step's event,
 * resulting world and packed-state fingerprint.
 */

import type { DamageKind } from '../specs/core/protocol.ts';

export const TRACE_FORMAT = 'pacta-trace';
/**
 * The newest format version. Version 2 adds `loopStart` (a liveness counterexample, a lasso);
 * every other trace is still written as version 1, and readers take both.
 */
export const TRACE_VERSION = 2;

/** A world state as plain JSON (node ids are indexes into `nodes`). */
export interface WorldJSON {
  time: number;
  crashes: number;
  /** Restarts with damaged durable state so far (worlds with disk faults). */
  diskFaults?: number;
  /** Each node's clock offset from true time (worlds with clock error). */
  clockOffsets?: number[];
  nodes: { id: number; name: string; role: string; crashed: boolean; state: unknown }[];
  network: { from: number; to: number; msg: unknown; count: number }[];
  /** Client invocations and returns, in order (protocols with clients). */
  history?: unknown[];
}

/** An event as it appears in traces (node ids are indexes into `nodes`). */
export type TraceEvent =
  | { kind: 'init' }
  | { kind: 'deliver' | 'duplicate' | 'drop'; from: number; to: number; msg: unknown }
  | { kind: 'action'; node: number; action: string; arg?: unknown }
  /**
   * `lostWrite`: the node took this step, the disk lost the step's write (an fsync that lied) after
   * its messages went out, and the node crashed right after (`--disk-faults`).
   */
  | { kind: 'crash'; node: number; lostWrite?: LostWriteTraceStep }
  /** `damage`: the node came back with its durable state damaged this way (`--disk-faults`). */
  | { kind: 'restart'; node: number; damage?: DamageKind }
  | { kind: 'invoke'; node: number; to: number; op: unknown }
  | { kind: 'drift'; node: number; by: number }
  | { kind: 'tick' };

/** The step a lost-write crash follows: a delivery to the crashing node, or one of its actions. */
export type LostWriteTraceStep =
  | { kind: 'deliver'; from: number; to: number; msg: unknown }
  | { kind: 'action'; node: number; action: string; arg?: unknown };

/** One step: the event taken and the world it led to. Step 0 is the initial state. */
export interface TraceStep {
  event: { kind: string; [key: string]: unknown };
  /** The world after the event. */
  state: WorldJSON;
  /** 16 hex digits: the 64-bit fingerprint of the packed world. */
  fingerprint: string;
}

export interface TraceFile {
  format: typeof TRACE_FORMAT;
  version: 1 | 2;
  /**
   * Bundled spec name, or the path of the spec file: relative to the trace file's folder as
   * `pacta check` writes it (older traces: absolute, or relative to the working directory).
   */
  spec: string;
  /** 16 hex digits of the SHA-256 of the spec file's bytes when the trace was written (spec files only). */
  specHash?: string;
  variant: string | null;
  params: Record<string, number | boolean | string>;
  /** The world and search options of the run (network, faults, mode...). */
  options: Record<string, unknown>;
  seed: number | null;
  /** What the trace shows. */
  result: 'violation' | 'deadlock' | 'error';
  property: { name: string; kind: string } | null;
  /** The error thrown by spec code, for `result: 'error'`. */
  error?: string;
  /** Node names, in id order. */
  nodes: string[];
  steps: TraceStep[];
  /**
   * Version 2, liveness: the trace is a lasso. Steps `loopStart`..end form a cycle: the last
   * step's state is the state of step `loopStart`, and the run repeats that cycle forever. When
   * `loopStart` is the last step, the run stutters there forever (no fair step is enabled).
   */
  loopStart?: number;
  /**
   * Version 2, random mode, liveness: not a lasso but a bounded walk, a *suspected* violation
   * and not a proof. The property stayed unsatisfied over the last `steps` steps of the walk
   * (`eventually p`: p held at no step; `leadsTo p q`: a p ∧ ¬q state `steps` steps before the
   * end and ¬q since; `alwaysEventually p`: p held at none of those steps). `terminal`: the walk
   * ended in a state where no event is enabled (the run stutters there, which is a real violation).
   */
  bounded?: { steps: number; terminal: boolean };
  /** Random mode: the walk (0-based) that produced the trace; `--seed S --walk W` re-runs it. */
  walk?: number;
  /** Random mode: how that walk chose its steps (swarm mix, PCT priorities, fast-check schedule). */
  schedule?: TraceSchedule;
  /** Set by `pacta minimize`: the length it started from and what it took. */
  minimized?: { fromSteps: number; seconds: number };
}

/** How a random walk chose its steps, as logged in its trace. */
export interface TraceSchedule {
  strategy: 'uniform' | 'pct' | 'fast-check';
  swarm?: Record<string, number>;
  pct?: { depth: number; priorities: Record<string, number>; changePoints: number[] };
  shrinks?: number;
  choices?: number[];
}
