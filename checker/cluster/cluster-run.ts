/**
 * The coordinator's side of a cluster run, whatever its kind: publish the run, put out one seat
 * per wanted worker, wait for them to join, keep a heartbeat of its own (members leave a run whose
 * coordinator is gone), send commands, and read reports while watching the members' heartbeats.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClusterError, connectRedis, duplicate, HEARTBEAT_MS, HEARTBEAT_TTL_MS, keys, removeRun, runKeys, type RunDescription, type RunKeys } from './redis-link.ts';

/** A member of the run: its worker id and where it runs (host and pid, from its heartbeat). */
export interface Member {
  worker: number;
  host: string;
  pid: number;
}

/** How long the coordinator waits for the workers it wants before giving up. */
const JOIN_SECONDS = 30;
/** How long a report wait blocks before the coordinator looks at heartbeats and limits. */
const POLL_SECONDS = 0.25;

export class ClusterRun {
  readonly keys: RunKeys;
  members: Member[] = [];
  private beat: NodeJS.Timeout | null = null;

  private constructor(
    readonly url: string,
    readonly redis: Redis,
    readonly blocking: Redis,
    readonly id: string,
  ) {
    this.keys = runKeys(id);
  }

  /**
   * Connects, publishes the run and waits until `wanted` workers joined (default: as many as have
   * a heartbeat now, at least one). Rejects with a ClusterError when Redis is unreachable or the
   * workers do not come within JOIN_SECONDS.
   */
  static async open(url: string, description: Omit<RunDescription, 'members'>, wanted: number | undefined, joinSeconds = JOIN_SECONDS): Promise<ClusterRun> {
    const redis = await connectRedis(url);
    const blocking = await duplicate(redis, url);
    const run = new ClusterRun(url, redis, blocking, randomBytes(6).toString('hex'));
    try {
      await run.join(description, wanted, joinSeconds);
    } catch (e) {
      await run.close();
      throw e;
    }
    return run;
  }

  private async join(description: Omit<RunDescription, 'members'>, wanted: number | undefined, joinSeconds: number): Promise<void> {
    const k = this.keys;
    const n = wanted ?? Math.max(1, await this.liveWorkers());
    const beat = () => this.redis.set(k.coordinator, '1', 'PX', HEARTBEAT_TTL_MS);
    await beat();
    this.beat = setInterval(() => void beat().catch(() => {}), HEARTBEAT_MS);
    await this.redis.set(k.description, JSON.stringify({ ...description, members: n } satisfies RunDescription), 'EX', 7 * 86_400);
    await this.redis.rpush(keys.seats, ...Array.from({ length: n }, () => this.id));
    const deadline = performance.now() + joinSeconds * 1000;
    let joined = 0;
    while ((joined = await this.redis.llen(k.members)) < n) {
      if (performance.now() > deadline) {
        throw new ClusterError(`${joined} of ${n} workers joined within ${joinSeconds} s: start more with \`pacta worker --cluster ${this.url}\` (or ask for fewer with --workers)`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.redis.lrem(keys.seats, 0, this.id);
    const ids = (await this.redis.lrange(k.members, 0, n - 1)).map(Number);
    this.members = await Promise.all(
      ids.map(async (worker) => {
        const who = JSON.parse((await this.redis.get(keys.heartbeat(worker))) ?? '{}') as { host?: string; pid?: number };
        return { worker, host: who.host ?? '?', pid: who.pid ?? 0 };
      }),
    );
  }

  /** Workers with a live heartbeat now. */
  private async liveWorkers(): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', keys.heartbeatPattern, 'COUNT', 1000);
      cursor = next;
      n += found.length;
    } while (cursor !== '0');
    return n;
  }

  /** How a member is named in messages: `worker 3 (host, pid 1234)`. */
  name(member: number): string {
    const m = this.members[member]!;
    return `worker ${m.worker} (${m.host}, pid ${m.pid})`;
  }

  async send(member: number, command: object): Promise<void> {
    await this.redis.rpush(this.keys.control(member), JSON.stringify(command));
  }

  /** Members (by index) whose heartbeat has expired. */
  async deadMembers(among: readonly number[] = this.members.map((_, i) => i)): Promise<number[]> {
    if (among.length === 0) return [];
    const p = this.redis.pipeline();
    for (const i of among) p.exists(keys.heartbeat(this.members[i]!.worker));
    const r = (await p.exec())!;
    return among.filter((_, j) => r[j]![1] === 0);
  }

  /**
   * The next report (parsed JSON), or null after POLL_SECONDS without one (the caller then looks
   * at heartbeats and limits). A member that failed to serve the run becomes a ClusterError.
   */
  async nextReport<T extends { kind: string }>(): Promise<T | null> {
    const got = await this.blocking.blpop(this.keys.reports, POLL_SECONDS);
    if (!got) return null;
    const report = JSON.parse(got[1]) as T | { kind: 'failed'; member: number; worker: number; message: string };
    if (report.kind === 'failed') {
      const f = report as { member: number; message: string };
      throw new ClusterError(`${this.name(f.member)} could not serve the run: ${f.message}`);
    }
    return report as T;
  }

  /** Asks the members to stop what they are doing (they still close the current level or job). */
  async stop(): Promise<void> {
    await this.redis.set(this.keys.stop, '1', 'EX', 86_400);
  }

  /** Ends the run: members are told, the run's keys removed, the connections closed. */
  async close(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    try {
      await this.redis.lrem(keys.seats, 0, this.id);
      await Promise.all(this.members.map((_, i) => this.send(i, { kind: 'end' })));
      // The members read their 'end' before the keys go: they leave once the coordinator's heartbeat does.
      await this.redis.del(this.keys.coordinator);
      await removeRun(this.redis, this.id);
    } catch {
      // Redis went away: the members leave on their own when the coordinator's heartbeat expires.
    } finally {
      this.redis.disconnect();
      this.blocking.disconnect();
    }
  }
}
