/**
 * The Redis connection of a cluster run (coordinator or worker) and the names of the keys that
 * runs share. One place decides how a URL is reached, how fast an unreachable one fails, and
 * what a key is called, so the coordinator and the workers cannot drift apart.
 *
 * Connections never retry: a run whose Redis goes away stops with an error naming the URL,
 * instead of waiting silently (a worker's or coordinator's supervisor may restart it).
 */
import { Redis } from 'ioredis';

/** How long connecting may take before the URL is reported unreachable. */
const CONNECT_MS = 2500;

/** Raised when Redis cannot be reached or answers with an error: the message names the URL. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    message: string,
    /** `input`: the URL is malformed or Redis unreachable (exit 2); `run`: a worker stopped or never came (exit 3). */
    readonly kind: 'input' | 'run' = 'run',
  ) {
    super(message);
  }
}

/** Validates a `redis://host:port[/db]` URL (or `rediss://`), returning it unchanged. */
export function clusterUrl(url: unknown): string {
  if (typeof url !== 'string' || !/^rediss?:\/\/[^\s/]+(\/\d+)?\/?$/.test(url)) {
    throw new ClusterError(`--cluster expects a Redis URL such as redis://127.0.0.1:6379, got ${JSON.stringify(url)}`, 'input');
  }
  return url;
}

/** Connects to `url`, or rejects with a ClusterError within about CONNECT_MS. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(clusterUrl(url), {
    lazyConnect: true,
    connectTimeout: CONNECT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // Errors surface through the commands' promises; without a listener ioredis would print them.
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than the closed connection.
  let cause: Error | null = null;
  redis.on('error', (e: Error) => {
    cause ??= e;
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('connection timed out')), CONNECT_MS + 500).unref());
  try {
    await Promise.race([redis.connect(), timeout]);
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const why = (cause as Error | null)?.message ?? (e instanceof Error ? e.message : String(e));
    throw new ClusterError(`cannot reach Redis at ${url}: ${why}`, 'input');
  }
  return redis;
}

/** A second connection to the same server, for blocking pops (they hold their connection). */
export async function duplicate(redis: Redis, url: string): Promise<Redis> {
  const copy = redis.duplicate({ lazyConnect: true });
  copy.on('error', () => {});
  try {
    await copy.connect();
  } catch (e) {
    copy.disconnect();
    throw new ClusterError(`cannot reach Redis at ${url}: ${e instanceof Error ? e.message : String(e)}`, 'input');
  }
  return copy;
}

/** Every key a cluster run uses starts with this. */
const PREFIX = 'pacta:';

/** Keys shared by all runs: worker liveness and the seats idle workers take. */
export const keys = {
  /** Counter handing out worker ids. */
  workerSeq: `${PREFIX}worker-seq`,
  /** A worker's heartbeat (expires unless refreshed): its host and pid as JSON. */
  heartbeat: (worker: number) => `${PREFIX}worker:${worker}`,
  heartbeatPattern: `${PREFIX}worker:*`,
  /** Run ids, one per seat: an idle worker pops one and joins that run. */
  seats: `${PREFIX}seats`,
};

/** The keys of one run (all under `pacta:run:<id>:`, removed when the run ends). */
export function runKeys(id: string) {
  const at = `${PREFIX}run:${id}`;
  return {
    /** The run's description (RunDescription as JSON). */
    description: at,
    all: `${at}:*`,
    /** Worker ids in joining order: a worker's place here is its member index. */
    members: `${at}:members`,
    /** Commands to member k (JSON), in order. */
    control: (member: number) => `${at}:control:${member}`,
    /** Replies and reports to the coordinator (JSON). */
    reports: `${at}:reports`,
    /** The coordinator's heartbeat: members leave the run once it expires. */
    coordinator: `${at}:coordinator`,
    /** Set when the run must stop (a violation, a limit, the coordinator gone). */
    stop: `${at}:stop`,
    // Partitioned BFS.
    /** Batches of states (binary) for member k to own. */
    inbox: (member: number) => `${at}:inbox:${member}`,
    /** Per level: owner → batches sent to it (hash), and how many members finished expanding. */
    sent: (level: number) => `${at}:sent:${level}`,
    finished: (level: number) => `${at}:finished:${level}`,
    /** Per member: its latest progress (JSON), for the coordinator's progress line. */
    progress: `${at}:progress`,
    // Swarm.
    /** Walk jobs not yet claimed (JSON). */
    jobs: `${at}:jobs`,
    /** Jobs a worker has claimed and not yet reported (moved back if its heartbeat expires). */
    claimed: (worker: number) => `${at}:claimed:${worker}`,
    /** A HyperLogLog of every fingerprint any job saw: the swarm's coverage (distinct states, estimated). */
    coverage: `${at}:coverage`,
    /** Job id → report (JSON): the first report of a job wins (HSETNX), a duplicate changes nothing. */
    results: `${at}:results`,
    /** Set once a DFS job searched every state with every fault kind: later DFS jobs would only search them again. */
    searched: `${at}:searched`,
  };
}

export type RunKeys = ReturnType<typeof runKeys>;

/** What the coordinator publishes; every worker builds the same model from it. */
export interface RunDescription {
  kind: 'bfs' | 'swarm';
  /** The spec as `pacta check` takes it: a bundled name or an absolute file path. */
  spec: string;
  variant: string | null;
  /** check()'s options as given (JSON-safe: see encodeOptions). */
  options: string;
  /** Members the run waits for. */
  members: number;
}

/** check()'s options as JSON: infinite bounds survive (JSON has no Infinity), functions are left out. */
export function encodeOptions(options: object): string {
  return JSON.stringify(options, (_, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : typeof v === 'function' ? undefined : v));
}

export function decodeOptions<T>(text: string): T {
  return JSON.parse(text, (_, v: unknown) => (v === 'Infinity' ? Number.POSITIVE_INFINITY : v)) as T;
}

/** How often workers refresh their heartbeat, and how long one lasts. */
export const HEARTBEAT_MS = 500;
export const HEARTBEAT_TTL_MS = 5000;

/** Whether worker `id`'s heartbeat is still there. */
export async function alive(redis: Redis, id: number): Promise<boolean> {
  return (await redis.exists(keys.heartbeat(id))) === 1;
}

/** The heartbeat's text for worker `id` (host and pid), or null once it expired. */
export async function whoIs(redis: Redis, id: number): Promise<string | null> {
  return redis.get(keys.heartbeat(id));
}

/** Deletes every key of a run. */
export async function removeRun(redis: Redis, id: string): Promise<void> {
  const k = runKeys(id);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', k.all, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
  await redis.del(k.description);
}
