/**
 * The programmatic API: `check(spec, options)` explores a protocol and returns a result union;
 * `assertSpec(spec, options)` throws a readable report instead, for use inside tests.
 */
import { type Protocol, isProtocol, SpecError } from '../specs/core/index.ts';
import { isAbsolute } from 'node:path';
import { bundledSpecs } from '../specs/catalogue.ts';
import { exhaustive, type SearchResult } from './exhaustive.ts';
import { parallelBfs } from './parallel.ts';
import { parallelRandom } from './parallel-random.ts';
import { Model } from './model.ts';
import { type CheckOptions, normalizeOptions, OptionsError } from './options.ts';
import { fastCheckWalks } from './fast-check-walks.ts';
import { randomOptions, randomWalks, type RandomRun } from './random.ts';
import type { CheckResult, GoalStatus, Stats } from './result.ts';
import { concretize, traceFile, traceSteps, type ConcretePath } from './trace-builder.ts';
import { HandlerError } from './world.ts';
import { formatTrace } from '../traces/text.ts';

/**
 * Explores `spec` under `options`. Rejects (with an OptionsError or SpecError) only on misuse.
 * With `workers > 1`, BFS runs on worker threads, which load the spec themselves: `specRef`
 * must then be a bundled spec name or the absolute path of the spec's module.
 */
export async function check(spec: Protocol, options: CheckOptions = {}, specRef?: string): Promise<CheckResult> {
  const workers = options?.workers ?? 1;
  const mode = options?.mode ?? 'bfs';
  const parallelRandomOk = mode === 'random' && options.strategy !== 'fast-check' && options.walk === undefined;
  if (workers > 1 && (mode === 'bfs' || parallelRandomOk)) {
    const ref = specRef ?? spec?.name;
    if (!bundledSpecs[ref] && !isAbsolute(ref)) {
      throw new OptionsError(`option 'workers': worker threads load the spec by module, so pass a bundled spec name or the spec file's absolute path as check()'s third argument (got '${ref}')`);
    }
    const model = prepare(spec, options);
    if (!(model instanceof Model)) return model;
    if (mode === 'random') return randomResult(model, ref, await parallelRandom(model, ref, workers));
    return exhaustiveResult(model, ref, await parallelBfs(model, ref, workers));
  }
  return checkSync(spec, options, specRef);
}

/** The synchronous core of {@link check} (single worker). */
export function checkSync(spec: Protocol, options: CheckOptions = {}, specRef = spec?.name): CheckResult {
  const model = prepare(spec, options);
  if (!(model instanceof Model)) return model;
  if (model.options.mode === 'random') {
    return randomResult(model, specRef, model.options.random.strategy === 'fast-check' ? fastCheckWalks(model) : randomWalks(model));
  }
  return exhaustiveResult(model, specRef, exhaustive(model));
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

function randomResult(model: Model, specRef: string, { outcome, stats, goals }: Pick<RandomRun, 'outcome' | 'stats' | 'goals'>): CheckResult {
  const base = common(model, stats, goals);
  // The trace names the walk and logs how it chose its steps (swarm mix, PCT priorities).
  const file = (path: ConcretePath, result: 'violation' | 'deadlock' | 'error', property: { name: string; kind: string } | null, error?: string) => ({
    ...traceFile(model, specRef, result, property, traceSteps(model, path), { seed: model.options.seed, error, options: randomOptions(model) }),
    ...('walk' in outcome && { walk: outcome.walk, schedule: outcome.log }),
  });
  switch (outcome.kind) {
    case 'violation':
      return { ...base, result: 'violation', property: { name: outcome.property, kind: 'invariant' }, trace: file(outcome.path, 'violation', { name: outcome.property, kind: 'invariant' }) };
    case 'deadlock':
      return { ...base, result: 'deadlock', trace: file(outcome.path, 'deadlock', null) };
    case 'error':
      return { ...base, result: 'error', error: outcome.error, trace: file(outcome.path, 'error', null, outcome.error) };
    case 'limit':
      return { ...base, result: 'incomplete', reason: outcome.reason };
    case 'done': {
      // Every walk ran to its end without a violation: "ok", with `exhaustive: false` saying
      // that walks sample the space (as TLC's -simulate and Quint's run exit 0). A goal no walk
      // reached proves nothing here: it is listed as not reached, not reported as a violation.
      return { ...base, result: 'ok' };
    }
  }
}

function exhaustiveResult(model: Model, specRef: string, { outcome, stats, goals }: SearchResult): CheckResult {
  const base = common(model, stats, goals);
  switch (outcome.kind) {
    case 'violation': {
      const property = { name: outcome.property, kind: 'invariant' as const };
      const trace = traceFile(model, specRef, 'violation', property, traceSteps(model, concretize(model, outcome.path)));
      return { ...base, result: 'violation', property, trace };
    }
    case 'deadlock':
      return { ...base, result: 'deadlock', trace: traceFile(model, specRef, 'deadlock', null, traceSteps(model, concretize(model, outcome.path))) };
    case 'error': {
      const path = concretize(model, outcome.path);
      const steps = traceSteps(model, path);
      if (outcome.event) {
        // The failing event, shown on the state it was taken in (it produced no state).
        steps.push({ event: outcome.event as never, state: steps[steps.length - 1]!.state, fingerprint: steps[steps.length - 1]!.fingerprint });
      }
      return { ...base, result: 'error', error: outcome.error, trace: traceFile(model, specRef, 'error', null, steps, { error: outcome.error }) };
    }
    case 'limit':
      return { ...base, result: 'incomplete', reason: outcome.reason };
    case 'handoff':
      throw new Error('exhaustiveResult: a BFS handed off to workers is finished by parallelBfs');
    case 'done': {
      const missed = goals.find((g) => !g.reached);
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
  if ('trace' in result && result.trace) lines.push('', formatTrace(result.trace));
  if (result.mode === 'random') lines.push('', `replay with: seed ${rest.seed ?? 0}`);
  throw new SpecCheckFailure(lines.join('\n'), result);
}

export { OptionsError };
