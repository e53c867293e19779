/**
 * `pacta check <spec>`: explore a protocol and report, as DESIGN.md's CLI contract says.
 * Exit 0 ok, 1 property violated (or deadlock), 2 bad input, 3 incomplete, 4 spec error.
 */
import { relative } from 'node:path';
import { check } from '../../checker/check.ts';
import { suspectText } from '../../checker/liveness/bounded.ts';
import { normalizeOptions, parseParam, type CheckOptions, type Options } from '../../checker/options.ts';
import { defaultWorkers } from '../../checker/parallel.ts';
import type { CheckResult } from '../../checker/result.ts';
import type { ParamValue, Protocol } from '../../specs/core/index.ts';
import { withNodeNames } from '../../traces/node-names.ts';
import { formatTrace } from '../../traces/text.ts';
import { keyValueTable, num, progressLine, seconds } from '../format.ts';
import { Exit, processIO, UsageError, type CliIO } from '../io.ts';
import { loadSpec } from '../load-spec.ts';
import { makeOutputDir } from '../output-dir.ts';
import { parseCommandArgs } from '../args.ts';

import { growthWarning } from '../growth-warning.ts';
import { jsonError, jsonHeader } from '../json-output.ts';
import { portableTrace, stateSpaceOptions, traceFilePath, writeTraceFile } from '../trace-file.ts';

export const checkUsage = `usage: pacta check <spec>[:variant] [options]

  <spec>                 a bundled spec (pacta list) or a path to a .ts file whose default
                         export is a protocol; ':variant' picks one of its broken variants
  --param k=v            override a spec param (repeatable)
  --mode bfs|dfs|random  search strategy (default bfs: shortest counterexamples)
  --network set|bag|fifo message semantics (default set: TLA+-style, messages persist)
  --drop, --dup          message loss and duplication (bag, fifo)
  --crashes N            allow up to N crashes (durable fields survive)
  --disk-faults N        up to N restarts find the durable state damaged (torn tail,
                         corrupted record, emptied log, a lost write; the role's onRecover decides);
                         without --crashes, allows N crashes
  --client-restarts N    up to N times a client restarts with the same id and no memory
                         (its pending call stays open; it registers a session first where the
                         spec declares one)
  --max-time N           true time advances by ticks up to N (clocks)
  --epsilon N            TrueTime uncertainty ε in ticks
  --clock-error N        node clocks drift up to N ticks from true time
  --max-in-flight N      do not explore states with more than N messages in flight
                         ('none' lifts a bound the spec's own check defaults set)
  --max-message-bytes N  a message payload larger than N bytes violates 'message size'
                         (default 65463, what the executor's udp transport carries; 'none': unchecked)
  --symmetry             permute interchangeable nodes (roles declared symmetric)
  --no-symmetry          do not, where the spec's own check defaults turn symmetry on
                         (raft, raft-kv; the default yields to liveness properties anyway)
  --deadlock             report states where no delivery or action is enabled
  --fair-delivery        liveness properties: every message that stays deliverable is
                         eventually delivered (weak fairness per message)
  --no-liveness          skip liveness properties (safety only: no state graph recorded,
                         worker threads allowed)
  --workers N            worker threads for BFS and random mode (default: the cores
                         available for BFS, started only once a BFS level is large; 1 otherwise);
                         more than the cores needs --force (at most 256); with --cluster, the
                         worker processes to wait for (default: those running when the run starts)
  --cluster URL          run on \`pacta worker\` processes that share this Redis (redis://host:port):
                         BFS partitioned by fingerprint, random mode as a swarm of walk jobs
                         and bounded DFS jobs (docs/distributed.md)
  --force                allow --workers beyond the cores available
  --max-depth N          explore at most N steps deep
  --max-states N         stop after N distinct states
  --time SECONDS         stop after this long
  --frontier-memory MIB  frontier held in memory before the rest goes to a temporary file
                         (default: a quarter of RAM)
  --max-memory SIZE      stop with a partial result (exit 3) when the process passes SIZE of
                         memory (200M, 4G; default: half of RAM; 'none': no bound)
  --check-determinism N  run the first N handler calls twice and check that they give the same
                         result and leave their input state unchanged (default 1000; 0: off)
  --no-fast-path         explore with the reference semantics (no remembered outcomes, no
                         fingerprint shortcuts, no caches): slower, for cross-checking
  --seed S               random mode: the seed that decides everything (default 0)
  --walks N              random mode: number of walks (default 1000)
  --walk W               random mode: run only walk W of the seed (how a violation is reproduced)
  --strategy uniform|pct|fast-check
                         random mode: pick steps uniformly (default), by PCT priorities with
                         change points, or let fast-check draw schedules (they shrink)
  --pct-depth D          random mode, pct: the bug depth d, i.e. d - 1 change points (default 3)
  --swarm                random mode: each walk draws its own mix of event kinds and actions
  --out DIR              where to write trace files (default ./pacta-traces)
  --json                 print one JSON object on stdout
  --progress-every S     off a terminal (a CI log, a pipe), print a progress line to stderr
                         every S seconds (default 10; 0: never); a terminal gets a live line`;

const spec = {
  param: { type: 'string', multiple: true },
  mode: { type: 'string' },
  network: { type: 'string' },
  drop: { type: 'boolean' },
  dup: { type: 'boolean' },
  crashes: { type: 'string' },
  'disk-faults': { type: 'string' },
  'client-restarts': { type: 'string' },
  'max-time': { type: 'string' },
  epsilon: { type: 'string' },
  'clock-error': { type: 'string' },
  'max-in-flight': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  symmetry: { type: 'boolean' },
  'no-symmetry': { type: 'boolean' },
  deadlock: { type: 'boolean' },
  'fair-delivery': { type: 'boolean' },
  'no-liveness': { type: 'boolean' },
  workers: { type: 'string' },
  cluster: { type: 'string' },
  'max-depth': { type: 'string' },
  'max-states': { type: 'string' },
  time: { type: 'string' },
  'frontier-memory': { type: 'string' },
  'max-memory': { type: 'string' },
  'no-fast-path': { type: 'boolean' },
  'check-determinism': { type: 'string' },
  seed: { type: 'string' },
  walks: { type: 'string' },
  walk: { type: 'string' },
  strategy: { type: 'string' },
  'pct-depth': { type: 'string' },
  swarm: { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'progress-every': { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Worker threads never exceed this, even with --force. */
const MAX_WORKERS = 256;

function int(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} expects an integer ≥ ${min}, got '${v}'`);
  return Number(v);
}

/** A memory size: bytes, or a number with K, M, G or T (powers of 1024); 'none' for no bound. */
function memorySize(name: string, v: string): number {
  if (v === 'none') return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(v);
  const n = m ? Math.floor(Number(m[1]) * 2 ** (10 * ' KMGT'.indexOf((m[2] || ' ').toUpperCase()))) : Number.NaN;
  if (!(n >= 2 ** 20)) throw new UsageError(`--${name} expects a size of at least 1M (e.g. 200M, 4G) or 'none', got '${v}'`);
  return n;
}

export async function checkCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, spec, checkUsage, io);
  if (!parsed) return Exit.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected one spec, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${checkUsage}`);
  const loaded = await loadSpec(positionals[0]!, io.cwd);
  const params: Record<string, ParamValue> = {};
  for (const p of v.param ?? []) {
    const [k, value] = parseParam(loaded.protocol, p);
    params[k] = value;
  }
  const timeSeconds = v.time === undefined ? undefined : Number(v.time);
  if (timeSeconds !== undefined && !(timeSeconds > 0)) throw new UsageError(`--time expects a positive number of seconds, got '${v.time}'`);
  // BFS uses the cores by default: workers start only for large levels, so small runs pay nothing.
  // A variant may declare the mode that exposes it (`expose.options.mode`).
  const mode = v.mode ?? loaded.protocol.exposure?.options?.mode ?? 'bfs';
  const workers = int('workers', v.workers, 1) ?? (mode === 'bfs' ? defaultWorkers() : 1);
  // Each worker holds its own copy of the spec and a share of the frontier: more workers than
  // cores only cost memory (the audit's --workers 1000 was killed for it).
  if (workers > MAX_WORKERS) throw new UsageError(`--workers expects at most ${MAX_WORKERS}, got ${workers}`);
  // With --cluster, --workers counts worker processes (any number of machines), not this machine's threads.
  const cluster = v.cluster;
  if (workers > defaultWorkers() && !v.force && cluster === undefined) {
    throw new UsageError(`--workers ${workers} is more than the ${defaultWorkers()} cores available; add --force to start them anyway`);
  }
  if (v.symmetry && v['no-symmetry']) throw new UsageError('--symmetry and --no-symmetry contradict each other: give one');
  const options: CheckOptions = {
    params,
    ...(v.mode !== undefined && { mode: v.mode as CheckOptions['mode'] }),
    ...(v.network !== undefined && { network: v.network as CheckOptions['network'] }),
    ...(v.drop && { drop: true }),
    ...(v.dup && { dup: true }),
    ...(v.crashes !== undefined && { crashes: int('crashes', v.crashes) }),
    ...(v['disk-faults'] !== undefined && { diskFaults: int('disk-faults', v['disk-faults']) }),
    ...(v['client-restarts'] !== undefined && { clientRestarts: int('client-restarts', v['client-restarts']) }),
    ...(v['max-time'] !== undefined && { maxTime: int('max-time', v['max-time']) }),
    ...(v.epsilon !== undefined && { trueTimeEpsilon: int('epsilon', v.epsilon) }),
    ...(v['clock-error'] !== undefined && { clockError: int('clock-error', v['clock-error']) }),
    ...(v['max-in-flight'] !== undefined && { maxInFlight: v['max-in-flight'] === 'none' ? Number.POSITIVE_INFINITY : int('max-in-flight', v['max-in-flight']) }),
    ...(v['max-message-bytes'] !== undefined && { maxMessageBytes: v['max-message-bytes'] === 'none' ? Number.POSITIVE_INFINITY : int('max-message-bytes', v['max-message-bytes']) }),
    ...(v.symmetry && { symmetry: true }),
    ...(v['no-symmetry'] && { symmetry: false }),
    ...(v.deadlock && { deadlock: true }),
    ...(v['fair-delivery'] && { fairDelivery: true }),
    ...(v['no-liveness'] && { liveness: false }),
    ...(v['max-depth'] !== undefined && { maxDepth: int('max-depth', v['max-depth'], 1) }),
    ...(v['max-states'] !== undefined && { maxStates: int('max-states', v['max-states'], 1) }),
    ...(timeSeconds !== undefined && { timeSeconds }),
    ...(v['frontier-memory'] !== undefined && { frontierMemoryBytes: int('frontier-memory', v['frontier-memory'], 1)! * 2 ** 20 }),
    ...(v['max-memory'] !== undefined && { maxMemoryBytes: memorySize('max-memory', v['max-memory']) }),
    ...(v.seed !== undefined && { seed: int('seed', v.seed) }),
    ...(v.walks !== undefined && { walks: int('walks', v.walks, 1) }),
    ...(v.walk !== undefined && { walk: int('walk', v.walk) }),
    ...(v.strategy !== undefined && { strategy: v.strategy as CheckOptions['strategy'] }),
    ...(v['pct-depth'] !== undefined && { pctDepth: int('pct-depth', v['pct-depth'], 1) }),
    ...(v.swarm && { swarm: true }),
    ...(v['no-fast-path'] && { fastPath: false }),
    ...(v['check-determinism'] !== undefined && { checkDeterminism: int('check-determinism', v['check-determinism']) }),
    ...(cluster === undefined && workers !== undefined && workers > 1 && { workers }),
    ...(cluster !== undefined && { cluster, ...(v.workers !== undefined && { workers }) }),
  };
  if (v.seed !== undefined && mode !== 'random') throw new UsageError('--seed only applies to --mode random');
  if (v.walks !== undefined && mode !== 'random') throw new UsageError('--walks only applies to --mode random');

  // An --out that cannot take a trace is found before the search, not after it.
  if (v.out !== undefined) makeOutputDir(io.cwd, v.out, '--out');

  const every = v['progress-every'] === undefined ? 10 : Number(v['progress-every']);
  if (!/^\d+(\.\d+)?$/.test(v['progress-every'] ?? '10')) throw new UsageError(`--progress-every expects a number of seconds ≥ 0, got '${v['progress-every']}'`);
  // Under --json a terminal gets no live line (stdout is the report); a log still gets its periodic lines on stderr.
  const progress = progressLine(io, { live: !v.json, every });
  const growth = growthWarning(io, normalizeOptions(loaded.protocol, options));
  const drawProgress = !(v.json && io.interactive);
  options.onProgress = (p) => {
    if (drawProgress) progress.update(p);
    growth.update(p);
  };
  const signals = interruptible(io, (workers > 1 && mode === 'bfs') || cluster !== undefined);
  if (signals) options.stop = signals.stop;
  let result: CheckResult;
  try {
    result = await check(loaded.protocol, options, { ref: loaded.path ?? loaded.ref, module: loaded.module });
  } catch (e) {
    // A cluster run that cannot start or go on: one line naming the URL or the worker.
    if (!(e instanceof Error && e.name === 'ClusterError')) throw e;
    progress.clear();
    const code = (e as Error & { kind?: string }).kind === 'input' ? Exit.usage : Exit.incomplete;
    io.err(`pacta check: ${e.message}\n`);
    if (v.json) io.out(jsonError('check', code === Exit.usage ? 'usage' : 'cluster', e.message, code));
    return code;
  } finally {
    signals?.dispose();
  }
  progress.clear();

  const walk = 'trace' in result ? result.trace?.walk : undefined;
  // A swarm's failing walk re-runs on one machine, under the strategy its job used.
  const alone = cluster !== undefined && walk !== undefined && 'trace' in result && result.trace ? swarmWalkArgs(args, result.trace.options) : args;
  const reproduce = reproduceCommand(positionals[0]!, walk === undefined ? args : oneWalkArgs(alone, String(options.seed ?? 0), walk));
  let traceFile: string | undefined;
  if ('trace' in result && result.trace) {
    const dir = makeOutputDir(io.cwd, v.out ?? 'pacta-traces', '--out');
    traceFile = traceFilePath(dir, loaded.ref, loaded.variant, result.mode, result.result, stateSpaceOptions(loaded.protocol, options));
    writeTraceFile(traceFile, portableTrace(result.trace, loaded.path, traceFile), '--out');
  }

  if (v.json) {
    io.out(`${JSON.stringify(jsonReport(result, traceFile, { options: normalizeOptions(loaded.protocol, options), reproduce, walk }))}\n`);
  } else {
    io.out(humanReport(result, traceFile ? relative(io.cwd, traceFile) || traceFile : undefined, reproduce, loaded.protocol));
  }
  return exitCode(result);
}

/**
 * Ctrl-C (SIGINT) and SIGTERM during a check: the first asks the search to stop at its next safe
 * point (the partial summary is then printed, exit 130); a second one quits at once. Only when
 * the search runs on worker threads: a search on this thread never yields to the event loop, so
 * a handler here would only delay the signal to the end of the run (there the default, quitting
 * at once, is kept).
 */
function interruptible(io: CliIO, async: boolean): { stop: () => boolean; dispose: () => void } | undefined {
  if (!async || io !== processIO) return undefined;
  let asked = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (asked) process.exit(Exit.interrupted);
    asked = true;
    io.err(`\n${signal}: stopping at the next safe point (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: () => asked,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function exitCode(r: CheckResult): number {
  if (r.result === 'incomplete' && r.reason === 'interrupted') return Exit.interrupted;
  switch (r.result) {
    case 'ok':
      return Exit.ok;
    case 'violation':
    case 'deadlock':
      return Exit.violation;
    case 'incomplete':
      return Exit.incomplete;
    case 'error':
      return Exit.internal;
  }
}

/**
 * Below this many distinct states, bytes per state measures the table's starting size, not the
 * states (52,434.8 bytes/state on a five-step random run): the figure is left out.
 */
const BYTES_PER_STATE_MIN_STATES = 1000;

/** Whether bytes per state means something for this run: an exhaustive search of enough states. */
function bytesPerStateMeaningful(r: CheckResult): boolean {
  return r.exhaustive && r.stats.distinctStates >= BYTES_PER_STATE_MIN_STATES;
}

/** The options a run used, after defaults and the variant's exposure (check()'s option names; null: unbounded). */
function resolvedOptions(o: Options): Record<string, unknown> {
  const bound = (n: number) => (n === Number.POSITIVE_INFINITY ? null : n);
  const w = o.world;
  return {
    network: w.network,
    drop: w.drop,
    dup: w.dup,
    crashes: w.crashes,
    diskFaults: w.diskFaults,
    clientRestarts: w.clientRestarts,
    maxTime: w.maxTime,
    trueTimeEpsilon: w.trueTimeEpsilon,
    clockError: w.clockError,
    maxInFlight: bound(w.maxInFlight),
    symmetry: o.symmetry,
    deadlock: o.deadlock,
    fairDelivery: o.fairDelivery,
    liveness: o.liveness,
    maxDepth: bound(o.maxDepth),
    maxStates: bound(o.maxStates),
    timeSeconds: bound(o.timeSeconds),
    maxMemoryBytes: bound(o.maxMemoryBytes),
    workers: o.workers,
    ...(o.mode === 'random' && {
      seed: o.seed,
      walks: bound(o.walks),
      strategy: o.random.strategy,
      swarm: o.random.swarm,
      ...(o.random.strategy === 'pct' && { pctDepth: o.random.pctDepth }),
      ...(o.random.walk !== null && { walk: o.random.walk }),
    }),
  };
}

/**
 * The object `--json` prints (DESIGN.md's CLI contract, documented in docs/cli.md#json-output and
 * pinned by docs/json-output.schema.json): the header, what was checked (spec, params, resolved
 * options, seed), the result and its figures, the trace and the command that reproduces it.
 */
function jsonReport(r: CheckResult, traceFile: string | undefined, run: { options: Options; reproduce: string; walk: number | undefined }): Record<string, unknown> {
  const s = r.stats;
  const out: Record<string, unknown> = {
    ...jsonHeader('check'),
    spec: r.spec,
    variant: r.variant,
    params: r.params,
    mode: r.mode,
    options: resolvedOptions(run.options),
    seed: r.mode === 'random' ? run.options.seed : null,
    exhaustive: r.exhaustive,
    result: r.result,
    distinctStates: s.distinctStates,
    statesGenerated: s.statesGenerated,
    depth: s.depth,
    seconds: Number(s.seconds.toFixed(3)),
    statesPerSecond: Math.round(s.statesPerSecond),
    ...(bytesPerStateMeaningful(r) && { bytesPerState: Number(s.bytesPerState.toFixed(1)) }),
    collisionProbability: s.collisionProbability,
    goals: r.goals,
  };
  if (s.walks !== undefined) Object.assign(out, { walks: s.walks, steps: s.steps, deepestWalk: s.depth });
  if (s.spilledBytes !== undefined) out.spilledBytes = s.spilledBytes;
  if (s.cluster) out.cluster = s.cluster;
  if (s.graph) out.graph = { edges: s.graph.edges, bytes: s.graph.bytes, analysisSeconds: Number(s.graph.analysisSeconds.toFixed(3)) };
  // Random mode: the walk that failed (with the seed, `--seed S --walk W` re-runs it alone).
  const walk = run.walk === undefined ? {} : { walk: run.walk };
  if (r.result === 'violation') {
    out.violation = { property: r.property.name, kind: r.property.kind, traceFile: traceFile ?? null, length: r.trace ? r.trace.steps.length - 1 : null, ...walk };
    // Random mode, liveness: not reached within a bound under fair random scheduling. Not a proof.
    if (r.suspected) Object.assign(out.violation as object, { suspected: true, proof: false, boundSteps: r.suspected.steps });
  }
  if (r.liveness) out.liveness = r.liveness;
  if (r.result === 'deadlock') out.deadlock = { traceFile: traceFile ?? null, length: r.trace.steps.length - 1, ...walk };
  if (r.result === 'incomplete') out.reason = r.reason;
  if (r.result === 'error') out.error = { message: r.error, traceFile: traceFile ?? null, ...walk };
  out.reproduce = run.reproduce;
  return out;
}

function humanReport(r: CheckResult, traceFile: string | undefined, reproduce: string, protocol: Protocol): string {
  const s = r.stats;
  const name = r.variant ? `${r.spec}:${r.variant}` : r.spec;
  const params = Object.entries(r.params).map(([k, x]) => `${k}=${String(x)}`).join(' ');
  const headline: Record<CheckResult['result'], string> = {
    ok: r.exhaustive ? 'ok: every property holds' : `ok: no walk found a violation (random search samples the space; it is not exhaustive)`,
    violation: r.result === 'violation' && r.suspected ? 'SUSPECTED LIVENESS VIOLATION (random walks, bounded: not a proof)' : 'VIOLATION',
    deadlock: 'DEADLOCK',
    incomplete: r.result === 'incomplete' && r.reason === 'interrupted' ? 'interrupted: a partial result; no violation found so far' : 'incomplete: a limit stopped the search; no violation found so far',
    error: 'ERROR in spec code',
  };
  const lines: string[] = [`${name} ${params} (${r.mode}): ${headline[r.result]}`];
  const rows: [string, string][] = [
    ['distinct states', num(s.distinctStates)],
    [r.mode === 'random' ? 'steps' : 'states generated', num(s.statesGenerated)],
    [r.mode === 'random' ? 'deepest walk' : 'depth', String(s.depth)],
    ['time', seconds(s.seconds)],
    ['states/s', num(s.statesPerSecond)],
    ['fingerprint collision probability', s.collisionProbability.toExponential(1)],
  ];
  if (bytesPerStateMeaningful(r)) rows.splice(rows.length - 1, 0, ['bytes/state', s.bytesPerState.toFixed(1)]);
  if (s.walks !== undefined) rows.splice(1, 0, ['walks', num(s.walks)]);
  if (s.graph) rows.push(['state graph (liveness)', `${num(s.graph.edges)} edges, ${(s.graph.bytes / 2 ** 20).toFixed(1)} MiB, analysis ${seconds(s.graph.analysisSeconds)}`]);
  if (s.spilledBytes !== undefined) rows.push(['frontier spilled to disk', `${(s.spilledBytes / 2 ** 20).toFixed(1)} MiB`]);
  lines.push(keyValueTable(rows));
  if (s.cluster) lines.push(...clusterLines(s.cluster));
  if (r.goals.length) {
    lines.push('reachable goals:');
    const missed = r.exhaustive ? ' — not reached' : ' — not reached by any walk';
    for (const g of r.goals) lines.push(`  ${g.reached ? '✓' : '✗'} ${g.name}${g.reached ? ` (depth ${g.depth})` : missed}`);
  }
  if (r.liveness?.length) {
    lines.push('liveness properties:');
    const how = (l: NonNullable<CheckResult['liveness']>[number]) => (!l.checked ? ` — not checked: ${l.reason}` : l.bounded ? ' — bounded check by random walks, not a proof' : '');
    for (const l of r.liveness) lines.push(`  ${l.checked ? (r.result === 'violation' && r.property.name === l.name ? '✗' : '✓') : '–'} ${l.name} (${l.kind})${how(l)}`);
  }
  if (r.result === 'violation') {
    const bounded = r.trace?.bounded;
    const note = r.property.kind === 'reachable' ? ' (a reachable goal was never reached: the spec may be vacuous)'
      : r.property.kind === 'invariant' ? ''
        : bounded ? ` (${suspectText(r.property.kind as 'eventually' | 'leadsTo' | 'alwaysEventually' | 'eventuallyAlways', r.property.name, bounded.steps, bounded.terminal)})`
          : ` (${r.property.kind}: a fair behaviour that cycles forever without it; the trace is a lasso)`;
    lines.push(`property violated: ${r.property.name}${note}`);
  }
  if (r.result === 'incomplete') lines.push(`stopped by: ${r.reason}`);
  if (r.result === 'incomplete' && r.reason === 'memory') {
    lines.push('hint: the process reached --max-memory; the counts above are what was explored. Shrink the space (smaller params, --symmetry,',
      '      --max-in-flight, fewer faults) or allow more memory (--max-memory SIZE, none: no bound).');
  }
  if (r.result === 'error') lines.push(`error: ${r.error}`);
  if ('trace' in r && r.trace) {
    // Node ids inside states and messages read as names, as `pacta show` prints them.
    lines.push('', formatTrace(withNodeNames(r.trace, protocol)), '');
    if (traceFile) lines.push(`trace written to ${traceFile}`);
    lines.push(`reproduce with: ${reproduce}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A cluster run: each worker's share, and what went through Redis. */
function clusterLines(c: NonNullable<CheckResult['stats']['cluster']>): string[] {
  const bfs = c.kind === 'partitioned-bfs';
  const out = [`cluster (${bfs ? 'partitioned BFS' : 'swarm'}, ${c.workers.length} workers):`];
  for (const w of c.workers) {
    const share = bfs ? `${num(w.states)} states owned, ${((w.visitedBytes ?? 0) / 2 ** 20).toFixed(1)} MiB of visited set` : `${num(w.jobs ?? 0)} jobs, ${num(w.states)} steps`;
    out.push(`  worker ${w.worker} (${w.host}, pid ${w.pid}): ${share}, ${num(w.statesPerSecond)}/s`);
  }
  if (bfs) out.push(`  through Redis: ${num(c.statesSent ?? 0)} states in ${num(c.batches ?? 0)} batches, ${((c.bytesSent ?? 0) / 2 ** 20).toFixed(1)} MiB, ${num(c.roundTrips ?? 0)} round trips`);
  else out.push(`  jobs done: ${num(c.jobs ?? 0)}, retried after a worker stopped: ${num(c.retried ?? 0)}`);
  return out;
}

/** Random mode: the seed and the one walk that failed replace the run's walk and time limits. */
function oneWalkArgs(args: string[], seed: string, walk: number): string[] {
  const drop = new Set(['--seed', '--walk', '--walks', '--time']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!.split('=')[0]!;
    if (!drop.has(flag)) out.push(args[i]!);
    else if (!args[i]!.includes('=')) i++; // skip the flag's value too
  }
  return [...out, '--seed', seed, '--walk', String(walk)];
}

/** A cluster swarm's walk on one machine: without --cluster and --workers, with its job's strategy and depth. */
function swarmWalkArgs(args: string[], traced: Record<string, unknown> | undefined): string[] {
  const drop = new Set(['--cluster', '--workers', '--strategy', '--pct-depth', '--swarm', '--max-depth']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!.split('=')[0]!;
    if (!drop.has(flag)) out.push(args[i]!);
    else if (flag !== '--swarm' && !args[i]!.includes('=')) i++;
  }
  const o = traced ?? {};
  if (o.strategy === 'pct') out.push('--strategy', 'pct', '--pct-depth', String(o.pctDepth));
  if (o.swarm) out.push('--swarm');
  if (typeof o.maxDepth === 'number') out.push('--max-depth', String(o.maxDepth));
  return out;
}

/** The command that reproduces this run (same spec, options and seed). */
function reproduceCommand(specArg: string, args: string[]): string {
  const rest = args.filter((a) => a !== specArg && a !== '--json');
  const quoted = [specArg, ...rest].map((a) => (/^[\w./:=,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return `npx pacta check ${quoted.join(' ')}`;
}
