/**
 * Crash cycles on the executor (issue 24): a 3-node raft-kv cluster under a put workload with
 * unique keys; each cycle crashes one server (the leader and a follower in turn), damages its
 * durable log as the mode says, restarts it, and waits until the cluster serves writes again and
 * the server has rejoined (out of repair mode, caught up). Afterwards every acknowledged put is
 * read back, and the whole client history is checked for linearizability.
 *
 * Modes: `kill` — the crash alone; `torn-tail` — the log ends in a torn write (the first 1 to
 * n-1 bytes of one more n-byte record, as a crash during a save leaves it);
 * `bit-flip` — one bit of the log flipped, anywhere (file header included); `empty-log` — the log
 * emptied (0 bytes); `lost-write` — the last record cut whole, its high-water mark kept (a flush
 * that lied: a save whose acknowledgements went out is gone, which raft-kv's servers detect).
 *
 * The crash is the runtime's `crash()` in this process: volatile state, queued inputs, timers and
 * held effects are dropped and the socket closed; writes already handed to the log complete (as a
 * SIGKILL leaves what `pwrite` wrote in the page cache), so the log holds at least every
 * acknowledged save. Used by bench/crash-cycles.ts (50+ cycles per mode) and
 * tests/executor-crash-cycles.test.ts (a few).
 */
import { appendFile, mkdtemp, rm, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLinearizability, kvModel } from '../checker/linearizability/index.ts';
import { InvokeTimeout, startCluster, type Cluster, type NodeEvent } from '../impl/index.ts';
import { encodeRecord, RecordType } from '../impl/storage/recordFormat.ts';
import { scanLog } from '../impl/storage/recoverLog.ts';
import { damageLog } from '../impl/storage/damageLog.ts';
import { defineProtocol } from '../specs/core/index.ts';
import { recoverAsIs } from '../specs/raft/consensus.ts';
import raftKv, { type KvOp, type KvResult, type KvServer } from '../specs/raft/raft-kv.ts';
import { kvHistory, type RaftOp, type RaftResult } from './executor-raft-workload.ts';

export const CYCLE_MODES = ['kill', 'torn-tail', 'bit-flip', 'empty-log', 'lost-write'] as const;
export type CycleMode = (typeof CYCLE_MODES)[number];

export interface CycleOptions {
  readonly mode: CycleMode;
  readonly cycles: number;
  readonly transport?: 'memory' | 'udp' | 'tcp';
  /** Concurrent put loops. Default 4. */
  readonly clients?: number;
  /** Workload time between cycles, ms. Default 300. */
  readonly workMs?: number;
  /** How long the crashed server stays down, ms. Default 50. */
  readonly downMs?: number;
  /** Give up waiting for a cycle to settle after this long, ms. Default 60,000. */
  readonly settleTimeoutMs?: number;
  readonly seed?: number;
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
  /**
   * How a damaged server recovers: `repair` (raft-kv's onRecover, protocol-aware recovery) or
   * `as-is` (the variant raft:truncate-on-corruption's rule: whatever could be read is the truth).
   * Default `repair`.
   */
  readonly recovery?: 'repair' | 'as-is';
  /** Progress, one line per cycle. */
  readonly onCycle?: (line: string) => void;
}

export interface CycleReport {
  readonly mode: CycleMode;
  readonly recovery: 'repair' | 'as-is';
  readonly cycles: number;
  /** Puts acknowledged `ok`. */
  readonly ackedPuts: number;
  /** Acknowledged puts whose key read back absent. */
  readonly lost: number;
  /** Read-backs that returned another value than the acknowledged put's (or timed out). */
  readonly readsWrong: number;
  /** The linearizability checker's verdict on the whole history (puts and read-backs). */
  readonly verdict: string;
  /** Cycles whose restart reported damage (`damaged` events), by kind. */
  readonly damaged: Readonly<Record<string, number>>;
  /** Cycles whose server entered repair mode and left it (caught up). */
  readonly repaired: number;
  /** Cycles that did not settle within the timeout. */
  readonly unsettled: number;
  /** Longest time from a restart to the next acknowledged put, ms. */
  readonly maxUnavailableMs: number;
  /** Longest time from a restart to the server's rejoining (running, out of repair, caught up), ms. */
  readonly maxRejoinMs: number;
  /** Node failures (`error` events): must be none. */
  readonly failures: number;
  readonly seconds: number;
}

/** A small seeded generator (xorshift32), so that a run's damage is reproducible. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function leaderOf(c: Cluster<KvOp, KvResult>): number | undefined {
  let best: number | undefined;
  let term = -1;
  for (const id of c.nodes) {
    const s = c.state<KvServer>(id);
    if (s?.role === 'leader' && s.term > term) {
      best = id;
      term = s.term;
    }
  }
  return best;
}

/** Damages `path` as `mode` says; returns what was done, in words. */
async function damage(path: string, mode: CycleMode, next: (n: number) => number): Promise<string> {
  const size = (await stat(path)).size;
  switch (mode) {
    case 'kill':
      return 'crash only';
    case 'torn-tail': {
      // The write in flight when the machine died, cut short: the start of one more record (the
      // projection saved again). Cutting into the last complete record instead would drop a save
      // that was flushed and acknowledged: a disk that lost a written record (an fsync that lied),
      // which the log alone cannot tell from a torn write and its high-water mark reports as a
      // lost write (docs/durability.md; the lost-write mode).
      const bytes = await readFile(path);
      const { records, snapshot } = scanLog(bytes, path);
      const record = encodeRecord(RecordType.entry, records.at(-1) ?? snapshot ?? Buffer.alloc(8));
      const kept = 1 + next(record.length - 1);
      await appendFile(path, record.subarray(0, kept));
      return `a torn write: ${kept} of a ${record.length}-byte record after ${size} bytes`;
    }
    case 'bit-flip': {
      const bytes = await readFile(path);
      const at = next(bytes.length);
      const bit = next(8);
      bytes[at]! ^= 1 << bit;
      await writeFile(path, bytes);
      return `flipped bit ${bit} of byte ${at} of ${size}`;
    }
    case 'empty-log':
      await truncate(path, 0);
      return `emptied ${size} bytes`;
    case 'lost-write':
      await damageLog(path, 'lost-write');
      return `the last record lost: ${size - (await stat(path)).size} of ${size} bytes`;
  }
}

/** Runs the cycles and reports. */
export async function runCrashCycles(options: CycleOptions): Promise<CycleReport> {
  const t0 = performance.now();
  const clients = options.clients ?? 4;
  const workMs = options.workMs ?? 300;
  const downMs = options.downMs ?? 50;
  const settleTimeoutMs = options.settleTimeoutMs ?? 60_000;
  const next = rng((options.seed ?? 1) * 7919 + CYCLE_MODES.indexOf(options.mode));
  const dataDir = await mkdtemp(join(tmpdir(), `pacta-cycles-${options.mode}-`));
  const events: NodeEvent[] = [];
  const spec = options.recovery === 'as-is'
    ? defineProtocol({ ...raftKv, variants: undefined, roles: { ...raftKv.roles, server: { ...raftKv.roles.server!, onRecover: recoverAsIs } } })
    : raftKv;
  const cluster = await startCluster<KvOp, KvResult>(spec, {
    transport: options.transport ?? 'udp', nodes: 3, dataDir, syncMode: options.syncMode ?? 'datasync', invokeTimeoutMs: 1000, seed: options.seed ?? 1,
    // Lease reads: the read-back of every acknowledged put is answered by the leaseholder at once.
    params: { maxTerm: 1_000_000, keys: 1_000_000, values: 1_000_000_000, clients, reads: 'lease', electionTicks: 300 },
    onEvent: (e) => {
      if (e.kind === 'damaged' || e.kind === 'error') events.push(e);
    },
  });
  const acked = new Map<number, number>();
  let stopped = false;
  let ackedCount = 0;
  try {
    await cluster.waitUntil(() => leaderOf(cluster) !== undefined, { timeoutMs: settleTimeoutMs });
    // The workload: each loop puts unique keys (client k: k·10^6 + i) with unique values.
    const loops = Array.from({ length: clients }, async (_, k) => {
      for (let i = 1; !stopped; i++) {
        const key = k * 1_000_000 + i;
        try {
          const r = await cluster.client(k).invoke({ kind: 'put', key, value: key + 1 });
          if (r.kind === 'ok') {
            acked.set(key, key + 1);
            ackedCount++;
          }
        } catch (e) {
          if (!(e instanceof InvokeTimeout)) throw e;
        }
      }
    });

    const damaged: Record<string, number> = {};
    let repaired = 0;
    let unsettled = 0;
    let maxUnavailableMs = 0;
    let maxRejoinMs = 0;
    for (let c = 0; c < options.cycles; c++) {
      await sleep(workMs);
      const leader = leaderOf(cluster);
      const followers = cluster.nodes.filter((id) => id !== leader);
      const victim = c % 2 === 0 && leader !== undefined ? leader : followers[next(followers.length)]!;
      await cluster.crash(victim);
      await damage(join(dataDir, `node-${victim}.log`), options.mode, next);
      await sleep(downMs);
      const reportsBefore = events.length;
      const ackedBefore = ackedCount;
      const restartedAt = performance.now();
      await cluster.restart(victim);
      const report = events.slice(reportsBefore).find((e) => e.kind === 'damaged' && e.node === victim);
      if (report?.kind === 'damaged') damaged[report.damage] = (damaged[report.damage] ?? 0) + 1;
      const inRepair = cluster.state<KvServer>(victim)?.repair !== null;
      let available = -1;
      try {
        await cluster.waitUntil(() => {
          if (available < 0 && ackedCount > ackedBefore) available = performance.now() - restartedAt;
          const s = cluster.state<KvServer>(victim);
          const l = leaderOf(cluster);
          const caughtUp = s !== undefined && s.repair === null && l !== undefined && s.commit >= Math.min(cluster.state<KvServer>(l)!.commit, s.log.length) && s.commit > 0;
          return available >= 0 && caughtUp;
        }, { timeoutMs: settleTimeoutMs, pollMs: 5 });
        if (inRepair) repaired++;
        maxUnavailableMs = Math.max(maxUnavailableMs, available);
        maxRejoinMs = Math.max(maxRejoinMs, performance.now() - restartedAt);
        options.onCycle?.(`cycle ${c}: node ${victim} ${report?.kind === 'damaged' ? report.damage : 'no damage'}, available after ${Math.round(available)} ms, rejoined after ${Math.round(performance.now() - restartedAt)} ms`);
      } catch {
        unsettled++;
        const s = cluster.state<KvServer>(victim);
        options.onCycle?.(`cycle ${c}: node ${victim} did not settle: available ${Math.round(available)} ms; victim ${s ? `${s.role} term ${s.term} log ${s.log.length} commit ${s.commit} repair ${JSON.stringify(s.repair)}` : 'down'}; leader ${leaderOf(cluster)}`);
      }
    }
    stopped = true;
    await Promise.all(loops);

    // Read back every acknowledged put (linearizable: lease or log reads), spread over the clients.
    const keys = [...acked.keys()];
    let lost = 0;
    let readsWrong = 0;
    await Promise.all(Array.from({ length: clients }, async (_, k) => {
      for (let i = k; i < keys.length; i += clients) {
        const key = keys[i]!;
        let r: KvResult | undefined;
        for (let attempt = 0; attempt < 5 && r === undefined; attempt++) {
          try {
            r = await cluster.client(k).invoke({ kind: 'get', key });
          } catch (e) {
            if (!(e instanceof InvokeTimeout)) throw e;
          }
        }
        if (r?.kind === 'value' && r.value === 0) lost++;
        else if (!(r?.kind === 'value' && r.value === acked.get(key))) readsWrong++;
      }
    }));
    const history = kvHistory(cluster as unknown as Cluster<RaftOp, RaftResult>);
    const verdict = checkLinearizability(history, kvModel, { timeLimitSeconds: 120 }).result;
    return {
      mode: options.mode, recovery: options.recovery ?? 'repair', cycles: options.cycles, ackedPuts: acked.size, lost, readsWrong, verdict, damaged, repaired, unsettled,
      maxUnavailableMs: Math.round(maxUnavailableMs), maxRejoinMs: Math.round(maxRejoinMs),
      failures: events.filter((e) => e.kind === 'error').length, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    stopped = true;
    await cluster.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
