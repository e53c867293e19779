/**
 * Check options: what a user may pass to `check()` (and the CLI maps its flags onto), validated
 * and normalized once into {@link Options}; nothing downstream re-reads defaults.
 */
import { UDP_PAYLOAD_BYTES_MAX } from './message-size.ts';
import { totalmem } from 'node:os';
import type { Params, ParamValue, Protocol } from '../specs/core/index.ts';
import type { NetworkMode, WorldOptions } from './world.ts';
import { ParamError, parseParam as parseSpecParam, resolveParams as resolveSpecParams } from '../specs/core/params.ts';

export type Mode = 'bfs' | 'dfs' | 'random';

/** Progress of a running check, reported about four times a second. */
export interface Progress {
  distinctStates: number;
  statesGenerated: number;
  depth: number;
  queue: number;
  seconds: number;
  statesPerSecond: number;
  /**
   * `trace`: the workers found a violation and the search re-runs on one thread to that depth, for
   * the shortest trace a one-thread run gives (the counts start again; `seconds` goes on).
   */
  phase?: 'trace';
}

/** Options of `check()`. All are optional. */
export interface CheckOptions {
  mode?: Mode;
  /** Overrides of the spec's params. */
  params?: Record<string, ParamValue>;
  network?: NetworkMode;
  drop?: boolean;
  dup?: boolean;
  crashes?: number;
  /**
   * Up to this many restarts find the node's durable state damaged (torn tail, corrupted record,
   * emptied log; the role's `onRecover` decides). CLI `--disk-faults N`. A disk fault needs a
   * crash: without `crashes`, it defaults to `diskFaults`.
   */
  diskFaults?: number;
  /**
   * Up to this many times in a run, a client restarts with the same id and no memory: its pending
   * call stays open, its request ids start over (after registering a session, where the spec
   * declares `clients.session`). CLI `--client-restarts N`. See checker/clients.ts.
   */
  clientRestarts?: number;
  maxTime?: number;
  /** TrueTime uncertainty ε, in ticks (CLI `--epsilon`). */
  epsilon?: number;
  /** @deprecated since 0.2, removed in the next release: use `epsilon`. */
  trueTimeEpsilon?: number;
  /** Bound on each node's clock offset from true time (offsets drift by ±1 per event). */
  clockError?: number;
  maxInFlight?: number;
  /**
   * The largest message payload the executor's transport carries, in bytes (CLI
   * `--max-message-bytes N|none`): a handler that sends a larger one violates the `message size`
   * invariant. Default: the udp payload limit, 65,463; Infinity turns the check off.
   */
  maxMessageBytes?: number;
  /** Reduce states by permuting the nodes of symmetric roles. */
  symmetry?: boolean;
  /** Report states with no enabled delivery or action as deadlocks. */
  deadlock?: boolean;
  /**
   * Liveness properties: every delivery is weakly fair (a message that stays deliverable is
   * eventually delivered). CLI `--fair-delivery`. A property may assume it on its own.
   */
  fairDelivery?: boolean;
  /** Check the spec's liveness properties (default true); false explores for safety only (CLI `--no-liveness`). */
  liveness?: boolean;
  maxStates?: number;
  maxDepth?: number;
  /** Limit: seconds (CLI `--time`). */
  time?: number;
  /** @deprecated since 0.2, removed in the next release: use `time` (seconds). */
  timeSeconds?: number;
  /** Worker threads for BFS (default 1; `defaultWorkers()` gives the cores available). */
  workers?: number;
  /** Frontier MiB kept in memory before the rest spills to a temporary file (default: a quarter of RAM; CLI `--frontier-memory`). */
  frontierMemory?: number;
  /** @deprecated since 0.2, removed in the next release: use `frontierMemory` (MiB). */
  frontierMemoryBytes?: number;
  /**
   * Stop when the process's resident memory passes this many bytes: result `incomplete`, reason
   * `memory`, with what was found so far, instead of being killed by the kernel (default: three
   * quarters of RAM; `Infinity` or `'none'`: no bound). A number of bytes, or a size as the CLI
   * takes it (`'200M'`, `'4G'`). CLI `--max-memory SIZE`.
   */
  maxMemory?: number | string;
  /** @deprecated since 0.2, removed in the next release: use `maxMemory`. */
  maxMemoryBytes?: number;
  /** Random mode: the seed that decides everything. */
  seed?: number;
  /** Random mode: how many walks. */
  walks?: number;
  /**
   * Run on worker processes (`pacta worker`) that meet at this Redis URL: BFS partitioned by
   * fingerprint, random mode as a swarm of walk jobs (docs/distributed.md). `workers` is then how
   * many worker processes to wait for (default: those alive when the run starts).
   */
  cluster?: string;
  /** Random mode: how each step is chosen (default uniform; see checker/random.ts). */
  strategy?: Strategy;
  /** Random mode, strategy 'pct': the bug depth d (d - 1 priority change points per walk). */
  pctDepth?: number;
  /** Random mode: each walk draws its own mix of event kinds and actions from the seed. */
  swarm?: boolean;
  /** Random mode: run only this walk of the seed's sequence (how a violation is reproduced). */
  walk?: number;
  /** Random mode: how many states' successors to remember (0: none). */
  cacheStates?: number;
  /**
   * Explore with the fast successor layer (default true). False explores with the reference
   * semantics (`events`/`next`, no caches): slower, for cross-checking (CLI `--no-fast-path`).
   */
  fastPath?: boolean;
  /**
   * How many handler calls at the start of a run are checked for breaking the contract: each is
   * run twice and must give the same result and effects, and must leave its input state as it
   * was (default 1,000; 0 turns the check off). CLI `--check-determinism N`.
   */
  checkDeterminism?: number;
  onProgress?: (p: Progress) => void;
  /**
   * Asked at the same safe points as the time limit (between BFS chunks, walks): true stops the
   * search there, result `incomplete` with reason `interrupted` (the CLI's Ctrl-C). Not passed
   * to worker threads: the coordinating thread asks it.
   */
  stop?: () => boolean;
}

/** How random mode picks each step: uniformly, by PCT priorities, or by fast-check (shrinking). */
export type Strategy = 'uniform' | 'pct' | 'fast-check';

/** Normalized random-mode options. */
export interface RandomOptions {
  strategy: Strategy;
  pctDepth: number;
  swarm: boolean;
  /** Only this walk (0-based), or null for walks 0, 1, 2, ... */
  walk: number | null;
  cacheStates: number;
  /** Parallel random mode: this worker runs walks offset, offset + stride, ... (internal). */
  stride: number;
  offset: number;
}

/** Normalized options. */
export interface Options {
  mode: Mode;
  params: Params;
  world: WorldOptions;
  symmetry: boolean;
  deadlock: boolean;
  fairDelivery: boolean;
  liveness: boolean;
  maxStates: number;
  maxDepth: number;
  timeSeconds: number;
  seed: number;
  walks: number;
  random: RandomOptions;
  workers: number;
  frontierMemoryBytes: number;
  maxMemoryBytes: number;
  fastPath: boolean;
  checkDeterminism: number;
  onProgress?: (p: Progress) => void;
  stop?: () => boolean;
}

/** Bad options: the message names the option. */
export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

/**
 * The options named as `pacta check`'s flags, and the deprecated names they replace (kept for one
 * release): `to` turns a value given under the flag's name into the old name's unit.
 */
const FLAG_NAMED: Readonly<Record<string, { readonly old: keyof CheckOptions; readonly to: (v: unknown, name: string) => unknown }>> = {
  epsilon: { old: 'trueTimeEpsilon', to: (v, name) => count(name, v) },
  time: { old: 'timeSeconds', to: (v, name) => positive(name, v) },
  frontierMemory: { old: 'frontierMemoryBytes', to: (v, name) => count(name, v, 1) * 2 ** 20 },
  maxMemory: { old: 'maxMemoryBytes', to: (v, name) => (typeof v === 'string' ? memorySize(name, v) : count(name, v, 1)) },
};

/** A memory size: bytes, or a number with K, M, G or T (powers of 1024); 'none' for no bound. */
export function memorySize(name: string, v: string): number {
  if (v === 'none') return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(v);
  const n = m ? Math.floor(Number(m[1]) * 2 ** (10 * ' KMGT'.indexOf((m[2] || ' ').toUpperCase()))) : Number.NaN;
  if (!(n >= 2 ** 20)) throw new OptionsError(`option '${name}' expects a size of at least 1M (e.g. 200M, 4G) or 'none', got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Rewrites the options named as flags to the names the checker uses inside; an option given under
 * both its name and its deprecated one must have one value.
 */
function fromFlagNames(given: CheckOptions): CheckOptions {
  let out: Record<string, unknown> | undefined;
  for (const [name, { old, to }] of Object.entries(FLAG_NAMED)) {
    const v = (given as Record<string, unknown>)[name];
    if (v === undefined) continue;
    const converted = to(v, name);
    const before = given[old];
    if (before !== undefined && before !== converted) {
      throw new OptionsError(`options '${name}' and '${old}' (its deprecated name) disagree: ${JSON.stringify(v)} vs ${JSON.stringify(before)}; give only '${name}'`);
    }
    out ??= { ...given };
    delete out[name];
    out[old] = converted;
  }
  return (out ?? given) as CheckOptions;
}

const KNOWN = new Set([
  ...Object.keys(FLAG_NAMED),
  'mode', 'params', 'network', 'drop', 'dup', 'crashes', 'diskFaults', 'clientRestarts', 'maxTime', 'trueTimeEpsilon', 'clockError', 'maxInFlight', 'maxMessageBytes', 'symmetry',
  'deadlock', 'fairDelivery', 'liveness', 'maxStates', 'maxDepth', 'timeSeconds', 'seed', 'walks', 'workers', 'frontierMemoryBytes', 'maxMemoryBytes', 'onProgress',
  'strategy', 'pctDepth', 'swarm', 'walk', 'cacheStates', 'fastPath', 'checkDeterminism', 'stop',
  'cluster',
]);

function count(name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !(Number.isInteger(v) || v === Number.POSITIVE_INFINITY) || v < min) {
    throw new OptionsError(`option '${name}' must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0)) throw new OptionsError(`option '${name}' must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function flag(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new OptionsError(`option '${name}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Client restarts need clients with sessions (`clients.session`): a restarted client without one
 * reuses its request ids, and a spec that derives identities from them (spanner's transaction ids)
 * would report that as its own bug. The exception is a variant whose `clients` drop the sessions
 * on purpose (`session: undefined`): it stands for that very client.
 */
function clientsMayRestart(protocol: Protocol): void {
  if (!protocol.clients) throw new OptionsError(`option 'clientRestarts' needs clients: ${protocol.name} declares none`);
  if (protocol.clients.session) return;
  const variant = protocol.variantName === undefined ? undefined : protocol.variants?.[protocol.variantName];
  if (variant?.clients && 'session' in variant.clients) return;
  throw new OptionsError(`option 'clientRestarts' needs client sessions: ${protocol.name}'s clients declare none (clients.session), so a restarted client would reuse its request ids`);
}

/** Validates and normalizes options against a protocol. */
export function normalizeOptions(protocol: Protocol, given: CheckOptions = {}): Options {
  if (given === null || typeof given !== 'object') throw new OptionsError('options must be an object');
  for (const k of Object.keys(given)) {
    if (!KNOWN.has(k)) throw new OptionsError(`unknown option '${k}' (known: ${[...KNOWN].join(', ')})`);
  }
  const o = withExposure(protocol, given);
  const mode = o.mode ?? 'bfs';
  if (!['bfs', 'dfs', 'random'].includes(mode)) throw new OptionsError(`option 'mode' must be bfs, dfs or random, got ${JSON.stringify(mode)}`);
  const network = o.network ?? 'set';
  if (!['set', 'bag', 'fifo'].includes(network)) throw new OptionsError(`option 'network' must be set, bag or fifo, got ${JSON.stringify(network)}`);
  const drop = o.drop === undefined ? false : flag('drop', o.drop);
  const dup = o.dup === undefined ? false : flag('dup', o.dup);
  if ((drop || dup) && network === 'set') {
    throw new OptionsError(`options 'drop' and 'dup' need network 'bag' or 'fifo' (under 'set' every message may already be delivered any number of times, or never)`);
  }
  if (o.diskFaults !== undefined && o.diskFaults !== 0 && o.crashes === Number.POSITIVE_INFINITY) {
    throw new OptionsError(`option 'diskFaults' needs a finite 'crashes' bound`);
  }
  if (o.clientRestarts !== undefined && o.clientRestarts !== 0) clientsMayRestart(protocol);
  const timeSeconds = o.timeSeconds === undefined ? Number.POSITIVE_INFINITY : o.timeSeconds;
  if (typeof timeSeconds !== 'number' || !(timeSeconds > 0)) throw new OptionsError(`option 'timeSeconds' must be a positive number, got ${JSON.stringify(o.timeSeconds)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new OptionsError(`option 'onProgress' must be a function`);
  if (o.stop !== undefined && typeof o.stop !== 'function') throw new OptionsError(`option 'stop' must be a function`);
  if (o.cluster !== undefined && (typeof o.cluster !== 'string' || !/^rediss?:\/\//.test(o.cluster))) throw new OptionsError(`option 'cluster' must be a Redis URL (redis://host:port), got ${JSON.stringify(o.cluster)}`);
  return {
    mode,
    params: resolveParams(protocol, o.params ?? {}),
    world: {
      network,
      drop,
      dup,
      crashes: o.crashes === undefined ? (o.diskFaults === undefined ? 0 : count('diskFaults', o.diskFaults)) : count('crashes', o.crashes),
      diskFaults: o.diskFaults === undefined ? 0 : count('diskFaults', o.diskFaults),
      clientRestarts: o.clientRestarts === undefined ? 0 : count('clientRestarts', o.clientRestarts),
      maxTime: o.maxTime === undefined ? 0 : count('maxTime', o.maxTime),
      trueTimeEpsilon: o.trueTimeEpsilon === undefined ? 0 : count('trueTimeEpsilon', o.trueTimeEpsilon),
      clockError: o.clockError === undefined ? 0 : count('clockError', o.clockError),
      maxInFlight: o.maxInFlight === undefined ? Number.POSITIVE_INFINITY : count('maxInFlight', o.maxInFlight),
      maxMessageBytes: o.maxMessageBytes === undefined ? UDP_PAYLOAD_BYTES_MAX : count('maxMessageBytes', o.maxMessageBytes, 1),
    },
    symmetry: symmetryOf(protocol, given, o, mode),
    deadlock: o.deadlock === undefined ? false : flag('deadlock', o.deadlock),
    fairDelivery: o.fairDelivery === undefined ? false : flag('fairDelivery', o.fairDelivery),
    liveness: o.liveness === undefined ? true : flag('liveness', o.liveness),
    maxStates: o.maxStates === undefined ? Number.POSITIVE_INFINITY : count('maxStates', o.maxStates, 1),
    maxDepth: o.maxDepth === undefined ? (mode === 'random' ? 100 : Number.POSITIVE_INFINITY) : count('maxDepth', o.maxDepth, 1),
    timeSeconds,
    seed: o.seed === undefined ? 0 : count('seed', o.seed),
    walks: o.walks === undefined ? (o.timeSeconds === undefined ? 1000 : Number.POSITIVE_INFINITY) : count('walks', o.walks, 1),
    random: normalizeRandom(o),
    workers: o.workers === undefined ? 1 : count('workers', o.workers, 1),
    frontierMemoryBytes: o.frontierMemoryBytes === undefined ? Math.floor(totalmem() / 4) : count('frontierMemoryBytes', o.frontierMemoryBytes, 1),
    // Half of RAM: checked between chunks of work, a table that doubles can overshoot the bound by its own size.
    maxMemoryBytes: o.maxMemoryBytes === undefined ? Math.floor(totalmem() / 2) : count('maxMemoryBytes', o.maxMemoryBytes, 1),
    fastPath: o.fastPath === undefined ? true : flag('fastPath', o.fastPath),
    checkDeterminism: o.checkDeterminism === undefined ? 1000 : count('checkDeterminism', o.checkDeterminism),
    onProgress: o.onProgress,
    ...(o.stop && { stop: o.stop }),
  };
}

/**
 * Symmetry as given; a spec's own default (`checkDefaults`, raft's and raft-kv's) yields to its
 * liveness properties, which are not checked under symmetry: `--param leaderLiveness=true` checks
 * the property instead of leaving it unchecked. The user's own choice (`--symmetry`,
 * `--no-symmetry`) always wins.
 */
function symmetryOf(protocol: Protocol, given: CheckOptions, o: CheckOptions, mode: string): boolean {
  if (o.symmetry === undefined) return false;
  const on = flag('symmetry', o.symmetry);
  if (!on || given.symmetry !== undefined || o.liveness === false || mode === 'random') return on;
  let properties: readonly { kind: string }[];
  try {
    properties = protocol.properties?.(resolveParams(protocol, o.params ?? {}) as never) ?? [];
  } catch {
    return on; // bad params: the model reports them
  }
  return !properties.some((p) => LIVENESS_KINDS.has(p.kind));
}

const LIVENESS_KINDS = new Set(['eventually', 'leadsTo', 'alwaysEventually', 'eventuallyAlways']);

/**
 * The options a variant declares to expose its bug (`expose.options`), under the user's own: an
 * option the user gives wins, and so does a conflicting choice (a user who asks for the set
 * network drops the variant's drop and dup, which need bag or fifo).
 */
export function withExposure(protocol: Protocol, given: CheckOptions): CheckOptions {
  // Both sides under the checker's names: a spec may declare `epsilon` or the deprecated `trueTimeEpsilon`.
  const o = fromFlagNames(given);
  const exposed = protocol.exposure?.options;
  if (!exposed) return o;
  const out: CheckOptions = fromFlagNames({ ...(exposed as CheckOptions) });
  if (o.network === 'set') {
    delete out.drop;
    delete out.dup;
  }
  if (o.mode !== undefined && o.mode !== 'random') {
    delete out.seed;
    delete out.walks;
  }
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function normalizeRandom(o: CheckOptions): RandomOptions {
  const strategy = o.strategy ?? 'uniform';
  if (!['uniform', 'pct', 'fast-check'].includes(strategy)) {
    throw new OptionsError(`option 'strategy' must be uniform, pct or fast-check, got ${JSON.stringify(strategy)}`);
  }
  if (o.mode !== 'random') {
    for (const k of ['strategy', 'pctDepth', 'swarm', 'walk'] as const) {
      if (o[k] !== undefined) throw new OptionsError(`option '${k}' only applies to mode 'random'`);
    }
  }
  if (o.pctDepth !== undefined && strategy !== 'pct') throw new OptionsError(`option 'pctDepth' only applies to strategy 'pct'`);
  const swarm = o.swarm === undefined ? false : flag('swarm', o.swarm);
  if (swarm && strategy === 'fast-check') throw new OptionsError(`option 'swarm' does not apply to strategy 'fast-check' (fast-check draws the schedule)`);
  return {
    strategy,
    pctDepth: o.pctDepth === undefined ? 3 : count('pctDepth', o.pctDepth, 1),
    swarm,
    walk: o.walk === undefined ? null : count('walk', o.walk),
    cacheStates: o.cacheStates === undefined ? 1 << 18 : count('cacheStates', o.cacheStates),
    stride: 1,
    offset: 0,
  };
}

/** The spec's params with overrides applied (the one rule of specs/core/params.ts), as an options error. */
export function resolveParams(protocol: Protocol, overrides: Record<string, ParamValue>): Params {
  try {
    return resolveSpecParams(protocol, overrides);
  } catch (e) {
    throw e instanceof ParamError ? new OptionsError(e.message) : e;
  }
}

/** Parses a `--param k=v` value by the type of the param's default, as an options error. */
export function parseParam(protocol: Protocol, text: string): [string, ParamValue] {
  try {
    return parseSpecParam(protocol, text);
  } catch (e) {
    throw e instanceof ParamError ? new OptionsError(e.message) : e;
  }
}
