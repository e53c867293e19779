/**
 * `pacta worker --cluster URL`: a process that serves cluster runs, one after another. It takes a
 * worker id, keeps a heartbeat key alive (the coordinator's way to tell it is gone), and waits for
 * a seat: a run id a coordinator pushed, one per worker it wants. It then loads the run's spec the
 * way `pacta check` does (a bundled name or a file path, resolved on this machine), builds the same
 * model from the published options, and serves the run: a share of a partitioned BFS
 * (bfs-member.ts) or walk jobs of a swarm (swarm-member.ts). A run whose coordinator is gone is
 * left; the worker goes back to waiting.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Protocol } from '../../specs/core/index.ts';
import { Model } from '../model.ts';
import { normalizeOptions, type CheckOptions } from '../options.ts';
import { BfsMember, RunGone } from './bfs-member.ts';
import { startHeartbeat } from './heartbeat.ts';
import { ClusterError, connectRedis, decodeOptions, duplicate, HEARTBEAT_MS, HEARTBEAT_TTL_MS, keys, runKeys, type RunDescription, type RunKeys } from './redis-link.ts';
import { serveSwarm } from './swarm-member.ts';

export interface WorkerOptions {
  url: string;
  /** Loads a spec as `pacta check` names it (`name[:variant]` or a path): the CLI's resolver. */
  loadSpec: (spec: string) => Promise<Protocol>;
  /** Told what the worker does (the CLI prints it on stderr). */
  log?: (line: string) => void;
  /** Serve this many runs, then return (default: until stopped). */
  runs?: number;
  /** Returns true when the worker should leave (a signal). */
  stop?: () => boolean;
}

/** Control commands a coordinator sends a member (JSON on its control list). */
export type Command =
  | { kind: 'level'; level: number }
  | { kind: 'parent'; hi: number; lo: number }
  | { kind: 'end' };

/** How long a blocking wait lasts before the worker looks around (stop asked, coordinator gone). */
const WAIT_SECONDS = 0.5;

/** Serves cluster runs until `stop()` says so (or `runs` are done). Rejects with a ClusterError when Redis is unreachable. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const log = options.log ?? (() => {});
  const redis = await connectRedis(options.url);
  const blocking = await duplicate(redis, options.url);
  const id = await redis.incr(keys.workerSeq);
  const who = JSON.stringify({ host: hostname(), pid: process.pid });
  const beat = () => redis.set(keys.heartbeat(id), who, 'PX', HEARTBEAT_TTL_MS);
  await beat();
  let lost: unknown = null;
  // From a thread of its own (heartbeat.ts), so that a busy main thread is not taken for a dead one.
  const thread = options.url.startsWith('redis://')
    ? startHeartbeat(options.url, keys.heartbeat(id), who, HEARTBEAT_TTL_MS, HEARTBEAT_MS, (why) => {
        lost ??= new Error(why);
      })
    : null;
  const timer = thread
    ? null
    : setInterval(() => {
        beat().catch((e: unknown) => {
          lost ??= e;
        });
      }, HEARTBEAT_MS);
  log(`worker ${id} on ${hostname()} (pid ${process.pid}) waiting for runs at ${options.url}`);
  const stop = () => options.stop?.() === true || lost !== null;
  let served = 0;
  try {
    while (!stop() && (options.runs === undefined || served < options.runs)) {
      const seat = await blocking.blpop(keys.seats, WAIT_SECONDS);
      if (!seat) continue;
      const runId = seat[1];
      const k = runKeys(runId);
      const text = await redis.get(k.description);
      if (!text) continue; // a seat left over from a run that is gone
      const run = JSON.parse(text) as RunDescription;
      const member = (await redis.rpush(k.members, String(id))) - 1;
      if (member >= run.members) continue; // the run has all it asked for
      log(`worker ${id}: joined run ${runId} (${run.kind}, ${run.spec}${run.variant ? `:${run.variant}` : ''}) as member ${member} of ${run.members}`);
      try {
        const spec = await options.loadSpec(run.variant ? `${run.spec}:${run.variant}` : run.spec);
        const given = decodeOptions<CheckOptions>(run.options);
        if (run.kind === 'bfs') await serveBfs(new Model(spec, normalizeOptions(spec, given)), redis, blocking, k, member, run.members, stop);
        else await serveSwarm(spec, redis, k, id, given, stop);
      } catch (e) {
        if (e instanceof ClusterError) throw e;
        if (e instanceof RunGone) {
          log(`worker ${id}: run ${runId} was given up by its coordinator`);
          continue;
        }
        // The spec failed to load here, or a bug: tell the coordinator, which names this worker.
        const message = e instanceof Error ? e.message : String(e);
        log(`worker ${id}: run ${runId} failed here: ${message}`);
        await redis.rpush(k.reports, JSON.stringify({ kind: 'failed', member, worker: id, message }));
      }
      log(`worker ${id}: run ${runId} done`);
      served++;
    }
  } finally {
    if (timer) clearInterval(timer);
    await thread?.stop();
    await redis.del(keys.heartbeat(id)).catch(() => {});
    redis.disconnect();
    blocking.disconnect();
  }
  if (lost) throw new ClusterError(`lost Redis at ${options.url}: ${lost instanceof Error ? lost.message : String(lost)}`);
}

/** Waits for the next command on a member's control list; null once the coordinator is gone or a stop is asked. */
export async function nextCommand(redis: Redis, blocking: Redis, k: RunKeys, member: number, stop: () => boolean): Promise<Command | null> {
  for (;;) {
    if (stop()) return null;
    const got = await blocking.blpop(k.control(member), WAIT_SECONDS);
    if (got) return JSON.parse(got[1]) as Command;
    if ((await redis.exists(k.coordinator)) === 0) return null;
  }
}

/** A member's part in a partitioned BFS: levels, parent look-ups, until the coordinator ends it. */
async function serveBfs(model: Model, redis: Redis, blocking: Redis, k: RunKeys, member: number, members: number, stop: () => boolean): Promise<void> {
  const bfs = new BfsMember(model, redis, blocking, k, member, members);
  await redis.rpush(k.reports, JSON.stringify(bfs.placeInitial()));
  for (;;) {
    const c = await nextCommand(redis, blocking, k, member, stop);
    if (c === null || c.kind === 'end') return;
    if (c.kind === 'level') {
      await redis.rpush(k.reports, JSON.stringify(await bfs.expandLevel(c.level)));
    } else {
      await redis.rpush(k.reports, JSON.stringify({ kind: 'parent', member, hi: c.hi, lo: c.lo, parent: bfs.owned.parentOf(c.hi, c.lo) }));
    }
  }
}
