/**
 * The programmatic API: `check(spec, options)` explores a protocol and returns a result union;
 * `assertSpec(spec, options)` throws a readable report instead, for use inside tests.
 */
import { type Protocol, isProtocol, SpecError } from '../specs/core/index.ts';
import { isAbsolute } from 'node:path';
import { defaultTuning, exhaustive, type SearchOutcome, type SearchResult } from './exhaustive.ts';
import { StateGraph } from './liveness/graph.ts';
import { findViolation } from './liveness/fair-cycles.ts';
import { SccFinder } from './liveness/scc.ts';
import { boundedLivenessReason } from './liveness/bounded.ts';
import { parallelBfs } from './parallel.ts';
import { parallelRandom } from './parallel-random.ts';
import { Model } from './model.ts';
import { type CheckOptions, normalizeOptions, OptionsError } from './options.ts';
import { fastCheckWalks } from './fast-check-walks.ts';
import { randomOptions, randomWalks, type RandomRun, type WalkLog, type WalkOutcome } from './random.ts';
import type { CheckResult, GoalStatus, Incomplete, LivenessStatus, Stats } from './result.ts';
import { concretize, traceFile, traceSteps, type ConcretePath } from './trace-builder.ts';
import { HandlerError, type TraceEvent } from './world.ts';
import { withNodeNames } from '../traces/node-names.ts';
import { formatTrace } from '../traces/text.ts';

/**
 * Where a spec comes from: `ref`, the name its traces give it (a bundled name or a file path, what
 * `pacta replay` takes), and `module`, an absolute path or `file:` URL of a module whose default
 * export is the spec, which worker threads load.
 */
export interface SpecSource {
  ref: string;
  module: string;
}

/**
 * Explores `spec` under `options`. Rejects (with an OptionsError or SpecError) only on misuse.
 * `source` names the spec in traces (default: its name); with `workers > 1`, BFS and random
 * walks run on worker threads, which load the spec themselves from `source.module` (a string
 * that is an absolute path or `file:` URL serves as both).
 */
export async function check(spec: Protocol, options: CheckOptions = {}, source?: string | SpecSource): Promise<CheckResult> {
  const workers = options?.workers ?? 1;
  const mode = options?.mode ?? 'bfs';
  const ref = typeof source === 'object' ? source.ref : (source ?? spec?.name);
  if (options?.cluster !== undefined) {
    // Worker processes through Redis (docs/distributed.md); loaded only when asked for.
    const { clusterCheck } = await import('./cluster/cluster-check.ts');
    return clusterCheck(spec, options, typeof source === 'object' ? source.ref : (source ?? spec?.name));
  }
  const parallelRandomOk = mode === 'random' && options.strategy !== 'fast-check' && options.walk === undefined;
  if (workers > 1 && (mode === 'bfs' || parallelRandomOk)) {
    const module = typeof source === 'object' ? source.module : source !== undefined && (isAbsolute(source) || source.startsWith('file:')) ? source : undefined;
    if (module === undefined) {
      throw new OptionsError(`option 'workers': worker threads load the spec by module, so pass check() a third argument, { ref, module } or the spec file's absolute path (got '${ref}')`);
    }
    const model = prepare(spec, options);
    if (!(model instanceof Model)) return model;
    // Liveness needs the whole graph in one thread: such a BFS runs single-threaded.
    if (mode === 'bfs' && livenessOn(model)) return searchResult(model, ref, exhaustiveWithLiveness(model));
    if (mode === 'random') return walksResult(model, ref, await parallelRandom(model, module, workers));
    return searchResult(model, ref, await parallelBfs(model, module, workers));
  }
  return checkSync(spec, options, ref);
}

/** The synchronous core of {@link check} (single worker). */
export function checkSync(spec: Protocol, options: CheckOptions = {}, specRef = spec?.name): CheckResult {
  const model = prepare(spec, options);
  if (!(model instanceof Model)) return model;
  if (model.options.mode === 'random') {
    return walksResult(model, specRef, model.options.random.strategy === 'fast-check' ? fastCheckWalks(model) : randomWalks(model));
  }
  return searchResult(model, specRef, livenessOn(model) ? exhaustiveWithLiveness(model) : exhaustive(model));
}

/** Whether an exhaustive search of `model` records the graph and checks liveness. */
function livenessOn(model: Model): boolean {
  return model.liveness.length > 0 && !model.symmetry && model.options.liveness;
}

/** An exhaustive search that records the state graph, then checks each liveness property on it. */
function exhaustiveWithLiveness(model: Model): LiveSearchResult {
  const graph = new StateGraph(model, model.liveness);
  const r: LiveSearchResult = exhaustive(model, { ...defaultTuning, record: graph });
  if (r.outcome.kind !== 'done' || !r.store) return r;
  const store = r.store;
  const t0 = performance.now();
  const scc = new SccFinder(graph);
  r.livenessChecked = true;
  for (let i = 0; i < model.liveness.length; i++) {
    const p = model.liveness[i]!;
    const lasso = findViolation(graph, store, i, model.options.fairDelivery || p.fairDelivery === true, scc);
    if (lasso) {
      const indexes = [...lasso.stem, ...lasso.cycle.slice(1)];
      r.lasso = { property: p.name, kind: p.kind, path: store.fingerprintsOf(indexes), loopStart: lasso.stem.length - 1 };
      break;
    }
  }
  const analysisSeconds = (performance.now() - t0) / 1000;
  const seconds = r.stats.seconds + analysisSeconds;
  r.stats = { ...r.stats, seconds, statesPerSecond: seconds > 0 ? r.stats.distinctStates / seconds : 0, graph: { edges: graph.edges, bytes: graph.bytes().total, analysisSeconds } };
  return r;
}

interface LiveSearchResult extends SearchResult {
  livenessChecked?: boolean;
  lasso?: { property: string; kind: LivenessStatus['kind']; path: [number, number][]; loopStart: number };
}

/** Whether each liveness property was checked, and why not. */
function livenessStatus(model: Model, r: LiveSearchResult | null): LivenessStatus[] | undefined {
  if (model.liveness.length === 0) return undefined;
  const reason = !model.options.liveness
    ? 'turned off (--no-liveness)'
    : model.options.mode === 'random'
    ? (boundedLivenessReason(model) ?? undefined)
    : model.symmetry
      ? 'liveness is not checked under --symmetry (not shown sound here); run without it (--no-symmetry where the spec turns it on by default)'
      : r?.livenessChecked
        ? undefined
        : r?.outcome.kind === 'violation' || r?.outcome.kind === 'deadlock' || r?.outcome.kind === 'error'
          ? 'the search stopped at an earlier failure'
          : 'the search did not explore every state';
  // Random walks judge liveness only within their bound: checked, but no proof.
  const bounded = model.options.mode === 'random' && reason === undefined;
  return model.liveness.map((p) => ({ name: p.name, kind: p.kind, checked: reason === undefined, ...(reason ? { reason } : {}), ...(bounded && { bounded: true }) }));
}

/** The model to explore, or the error result of a spec whose `init` throws. */
function prepare(spec: Protocol, options: CheckOptions): Model | CheckResult {
  if (!isProtocol(spec)) throw new SpecError('check', 'the first argument must be a protocol made with defineProtocol or protocol(...).define');
  const opts = normalizeOptions(spec, options);
  try {
    return new Model(spec, opts);
  } catch (e) {
    if (e instanceof HandlerError) return setupError(spec, opts.mode, opts.params, e.message);
    throw e;
  }
}

/** A CheckResult from an exhaustive search's result (cluster runs build theirs here too). */
export function searchResult(model: Model, specRef: string, r: LiveSearchResult): CheckResult {
  const liveness = livenessStatus(model, r);
  let ended = fromExhaustive(model, r.outcome);
  if (r.lasso) {
    const path = concretize(model, r.lasso.path);
    ended = path.brokenBy
      ? { kind: 'error', error: path.brokenBy.message, path }
      : { kind: 'violation', property: r.lasso.property, propertyKind: r.lasso.kind, path, loopStart: r.lasso.loopStart };
  }
  const result = resultOf(model, specRef, ended, r.stats, r.goals);
  return liveness ? { ...result, liveness } : result;
}

/** A CheckResult from random walks' result (cluster swarms build theirs here too). */
export function walksResult(model: Model, specRef: string, r: Pick<RandomRun, 'outcome' | 'stats' | 'goals'>): CheckResult {
  const result = resultOf(model, specRef, fromWalks(r.outcome), r.stats, r.goals);
  const liveness = livenessStatus(model, null);
  return liveness ? { ...result, liveness } : result;
}

/** The fields every result shares. */
function common(model: Model, stats: Stats, goals: GoalStatus[]) {
  return {
    spec: model.protocol.name,
    variant: model.protocol.variantName ?? null,
    params: { ...model.options.params },
    mode: model.options.mode,
    exhaustive: model.options.mode !== 'random',
    stats,
    goals,
  };
}

/**
 * How any search ended, with its counterexample as a concrete path: exhaustive searches keep
 * fingerprint paths (concretized here), random walks keep the states they walked.
 */
type Ended =
  | { kind: 'done' }
  | { kind: 'limit'; reason: Incomplete['reason'] }
  | {
      kind: 'violation' | 'deadlock'; property?: string; propertyKind?: LivenessStatus['kind']; loopStart?: number; path: ConcretePath;
      walk?: { walk: number; log: WalkLog };
      /** Random mode, liveness: a suspected violation over the walk's last `steps` steps. */
      bounded?: { steps: number; terminal: boolean };
    }
  | { kind: 'error'; error: string; path: ConcretePath; event?: TraceEvent | null; walk?: { walk: number; log: WalkLog } };

function fromExhaustive(model: Model, o: SearchOutcome): Ended {
  if (o.kind === 'handoff') throw new Error('check: a BFS handed off to workers is finished by parallelBfs');
  if (o.kind !== 'violation' && o.kind !== 'deadlock' && o.kind !== 'error') return o;
  const path = concretize(model, o.path);
  // A handler that is not deterministic can break its contract only when the path is rebuilt.
  if (path.brokenBy) return { kind: 'error', error: path.brokenBy.message, path };
  if (o.kind === 'error') return { kind: 'error', error: o.error, path, event: o.event };
  return o.kind === 'violation' ? { kind: 'violation', property: o.property, path } : { kind: 'deadlock', path };
}

function fromWalks(o: WalkOutcome): Ended {
  if (o.kind === 'done' || o.kind === 'limit') return o;
  const walk = { walk: o.walk, log: o.log };
  if (o.kind === 'error') return { kind: 'error', error: o.error, path: o.path, walk };
  if (o.kind === 'violation' && o.bounded) {
    const { kind, steps, terminal } = o.bounded;
    return { kind: 'violation', property: o.property, propertyKind: kind, path: o.path, walk, bounded: { steps, terminal } };
  }
  return { kind: o.kind, property: o.kind === 'violation' ? o.property : undefined, path: o.path, walk };
}

/** The result of any search: the same fields, traces and verdicts for every mode. */
function resultOf(model: Model, specRef: string, ended: Ended, stats: Stats, goals: GoalStatus[]): CheckResult {
  const base = common(model, stats, goals);
  const random = model.options.mode === 'random';
  const trace = (e: Extract<Ended, { path: ConcretePath }>, result: 'violation' | 'deadlock' | 'error', property: { name: string; kind: string } | null) => {
    const steps = traceSteps(model, e.path);
    if (e.kind === 'error' && e.event) {
      // The failing event, shown on the state it was taken in (it produced no state).
      steps.push({ event: e.event as never, state: steps[steps.length - 1]!.state, fingerprint: steps[steps.length - 1]!.fingerprint });
    }
    const error = e.kind === 'error' ? e.error : undefined;
    const file = random
      ? traceFile(model, specRef, result, property, steps, { seed: model.options.seed, error, options: randomOptions(model) })
      : traceFile(model, specRef, result, property, steps, { error });
    // A lasso (liveness) marks where its cycle starts: format version 2.
    if (e.kind === 'violation' && e.loopStart !== undefined) return { ...file, version: 2 as const, loopStart: e.loopStart };
    // A random trace names its walk and logs how the walk chose its steps (swarm mix, PCT priorities).
    const walked = e.walk ? { ...file, walk: e.walk.walk, schedule: e.walk.log } : file;
    // A bounded liveness walk (random mode) says over how many steps the property stayed unsatisfied: version 2.
    return e.kind === 'violation' && e.bounded ? { ...walked, version: 2 as const, bounded: e.bounded } : walked;
  };
  switch (ended.kind) {
    case 'violation': {
      const property = { name: ended.property!, kind: ended.propertyKind ?? ('invariant' as const) };
      const suspected = ended.bounded && !ended.bounded.terminal ? { suspected: { steps: ended.bounded.steps } } : {};
      return { ...base, result: 'violation', property, trace: trace(ended, 'violation', property), ...suspected };
    }
    case 'deadlock':
      return { ...base, result: 'deadlock', trace: trace(ended, 'deadlock', null) };
    case 'error':
      return { ...base, result: 'error', error: ended.error, trace: trace(ended, 'error', null) };
    case 'limit':
      return { ...base, result: 'incomplete', reason: ended.reason };
    case 'done': {
      // Random walks prove nothing: a goal no walk reached is listed as not reached, and the
      // result is "ok" with `exhaustive: false` (as TLC's -simulate and Quint's run exit 0). An
      // exhaustive search that never reached a goal reports it: the spec may be vacuous.
      const missed = random ? undefined : goals.find((g) => !g.reached);
      if (missed) return { ...base, result: 'violation', property: { name: missed.name, kind: 'reachable' } };
      return { ...base, result: 'ok' };
    }
  }
}

function setupError(spec: Protocol, mode: CheckResult['mode'], params: Record<string, number | boolean | string>, error: string): CheckResult {
  return {
    spec: spec.name, variant: spec.variantName ?? null, params: { ...params }, mode, exhaustive: mode !== 'random', goals: [], result: 'error', error,
    stats: { distinctStates: 0, statesGenerated: 0, depth: 0, seconds: 0, statesPerSecond: 0, bytesPerState: 0, collisionProbability: 0 },
  };
}

/** Thrown by {@link assertSpec}: the formatted report, with the trace when there is one. */
export class SpecCheckFailure extends Error {
  override readonly name = 'SpecCheckFailure';
  constructor(
    message: string,
    readonly result: CheckResult,
  ) {
    super(message);
  }
}

/**
 * Checks `spec` and throws a {@link SpecCheckFailure} with a readable report unless the result
 * is `ok` (or `expect`, e.g. `{ expect: 'violation' }` to assert that a broken variant is caught).
 */
export async function assertSpec(
  spec: Protocol,
  options: CheckOptions & { expect?: CheckResult['result'] } = {},
): Promise<CheckResult> {
  const { expect = 'ok', ...rest } = options;
  const result = await check(spec, rest);
  if (result.result === expect) return result;
  const name = spec.variantName ? `${spec.name}:${spec.variantName}` : spec.name;
  const lines = [`${name}: expected ${expect}, got ${result.result}`];
  if (result.result === 'violation') lines.push(`property violated: ${result.property.name} (${result.property.kind})`);
  if (result.result === 'error') lines.push(`error: ${result.error}`);
  if (result.result === 'incomplete') lines.push(`stopped by: ${result.reason}`);
  lines.push(`${result.stats.distinctStates} distinct states, depth ${result.stats.depth}`);
  if ('trace' in result && result.trace) lines.push('', formatTrace(withNodeNames(result.trace, spec)));
  if (result.mode === 'random') lines.push('', `replay with: seed ${rest.seed ?? 0}`);
  throw new SpecCheckFailure(lines.join('\n'), result);
}

export { OptionsError };
