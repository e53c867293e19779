/**
 * The cost of detecting lost writes (issue 24): the durable log's high-water mark is a second
 * write and flush after each of the log's flushes (impl/storage/highWaterMark.ts). Two figures,
 * each A/B with the mark on and off, interleaved in rounds so that the machine's load falls on both:
 *
 * 1. one durable log, sequential commits (one record each, fdatasync): commit latency; then 16
 *    committers at once (group commit): commits per second;
 * 2. a 3-node raft-kv cluster over tcp on loopback, one client putting in a closed loop: put
 *    latency, raft-kv's servers as they are (`lostWrites: 'detected'`: the mark) and with
 *    `lostWrites: 'undetected'` (no mark).
 *
 *   npx tsx bench/lost-write-mark.ts                       (400 commits and 6 s of puts per side)
 *   npx tsx bench/lost-write-mark.ts --commits 1000 --rounds 10 --window-ms 2000
 *
 * Data goes to the temporary directory (its file system is printed: a tmpfs flushes for free).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { table } from '../cli/format.ts';
import { startCluster, type Cluster } from '../impl/index.ts';
import { openDurableLog, type DurableLog } from '../impl/storage/index.ts';
import { defineProtocol } from '../specs/core/index.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { leaderOf, type RaftOp, type RaftResult } from '../tests/executor-raft-workload.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log('usage: npx tsx bench/lost-write-mark.ts [--commits N] [--rounds N] [--window-ms MS] [--no-cluster]');
  process.exit(0);
}
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const commits = arg('commits', 400);
const rounds = arg('rounds', 6);
const windowMs = arg('window-ms', 1000);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');
const pct = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (x: number): string => x.toFixed(3);

const dir = mkdtempSync(join(tmpdir(), 'pacta-mark-bench-'));
const fs = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n').at(-1)!.split(/\s+/)[1];
console.log(`lost-write mark: A/B in ${rounds} interleaved rounds; ${dir} on ${fs}; load average before: ${load()}`);

type Side = 'mark' | 'no mark';
const rows: string[][] = [];
const summary = (what: string, side: Side, lat: number[], seconds: number): string[] => {
  lat.sort((a, b) => a - b);
  const mean = lat.reduce((s, x) => s + x, 0) / lat.length;
  return [what, side, String(lat.length), ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(mean), (lat.length / seconds).toFixed(0)];
};

try {
  // 1. The log alone.
  const logs: Record<Side, DurableLog> = {
    mark: (await openDurableLog(join(dir, 'mark.log'), { detectLostWrites: true })).log,
    'no mark': (await openDurableLog(join(dir, 'plain.log'))).log,
  };
  const lat: Record<Side, number[]> = { mark: [], 'no mark': [] };
  const took: Record<Side, number> = { mark: 0, 'no mark': 0 };
  const record = Buffer.alloc(64, 7);
  const perRound = Math.ceil(commits / rounds);
  for (let r = 0; r < rounds; r++) {
    for (const side of (r % 2 === 0 ? ['mark', 'no mark'] : ['no mark', 'mark']) as Side[]) {
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        await logs[side].commit(record);
        lat[side].push(performance.now() - t);
      }
      took[side] += (performance.now() - t0) / 1000;
    }
  }
  for (const side of ['no mark', 'mark'] as Side[]) rows.push(summary('log commit (64 B, fdatasync)', side, lat[side], took[side]));
  // 16 committers at once: their records go out in group commits.
  const group: Record<Side, number[]> = { mark: [], 'no mark': [] };
  const groupTook: Record<Side, number> = { mark: 0, 'no mark': 0 };
  for (let r = 0; r < rounds; r++) {
    for (const side of (r % 2 === 0 ? ['mark', 'no mark'] : ['no mark', 'mark']) as Side[]) {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = 0; i < Math.ceil(perRound / 4); i++) {
          const t = performance.now();
          await logs[side].commit(record);
          group[side].push(performance.now() - t);
        }
      }));
      groupTook[side] += (performance.now() - t0) / 1000;
    }
  }
  for (const side of ['no mark', 'mark'] as Side[]) {
    rows.push(summary('log commit, 16 committers', side, group[side], groupTook[side]));
    await logs[side].close();
  }

  // 2. raft-kv, one client putting.
  if (!argv.includes('--no-cluster')) {
    const server = raftKv.roles.server!;
    const specs: Record<Side, typeof raftKv> = {
      mark: raftKv,
      'no mark': defineProtocol({ ...raftKv, variants: undefined, roles: { ...raftKv.roles, server: { ...server, lostWrites: 'undetected' } } }) as typeof raftKv,
    };
    const clusters = {} as Record<Side, Cluster<RaftOp, RaftResult>>;
    for (const side of ['mark', 'no mark'] as Side[]) {
      clusters[side] = await startCluster<RaftOp, RaftResult>(specs[side], {
        transport: 'tcp', nodes: 3, seed: 1, invokeTimeoutMs: 2000, dataDir: mkdtempSync(join(dir, 'cluster-')),
        params: { maxTerm: 1_000_000, clients: 1, keys: 1000, reads: 'index' },
        actionTimerMs: { appendEntries: [100, 100], timeout: [1000, 2000] },
      });
      await clusters[side].waitUntil(() => leaderOf(clusters[side]) !== undefined, { timeoutMs: 10_000 });
    }
    const put: Record<Side, number[]> = { mark: [], 'no mark': [] };
    const spent: Record<Side, number> = { mark: 0, 'no mark': 0 };
    let value = 0;
    for (let r = 0; r < rounds; r++) {
      for (const side of (r % 2 === 0 ? ['mark', 'no mark'] : ['no mark', 'mark']) as Side[]) {
        const t0 = performance.now();
        while (performance.now() - t0 < windowMs) {
          const t = performance.now();
          const res = await clusters[side].client(0).invoke({ kind: 'put', key: value % 1000, value: ++value });
          if (res.kind === 'ok') put[side].push(performance.now() - t);
        }
        spent[side] += (performance.now() - t0) / 1000;
      }
    }
    for (const side of ['no mark', 'mark'] as Side[]) {
      rows.push(summary('raft-kv put, 1 client (tcp)', side, put[side], spent[side]));
      await clusters[side].close();
    }
  }
  console.log(table(['what', 'side', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'per s'], rows));
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
