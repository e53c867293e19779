/**
 * Cluster mode's cost (docs/distributed.md): a partitioned BFS of two-phase on 1, 2 and 4 worker
 * processes through one Redis, all on this machine, beside the single-machine run; and a swarm's
 * throughput on the same worker counts.
 *
 *   npx tsx --conditions=pacta-source bench/distributed.ts            (two-phase rms=7)
 *   npx tsx --conditions=pacta-source bench/distributed.ts --rms 8
 *
 * This machine has 2 cores (shared with other work): extra worker processes only add overhead
 * (decoding every received state, batching, Redis round trips, a barrier per level), so the
 * figures show the overhead, not a speedup. What carries over to N real machines is the network
 * cost per state: bytes and Redis round trips per distinct state, from which the time a real
 * network adds can be estimated (bytes per state × states / bandwidth + round trips × latency /
 * workers, which overlap), next to the single-machine states/s each worker keeps on its share.
 *
 * It starts its own redis-server (loopback, free port, no persistence) and its own workers.
 */
import { cpus, loadavg } from 'node:os';
import { table } from '../cli/format.ts';
import { startLocalCluster } from './local-cluster.ts';

const args = process.argv.slice(2);
const rms = Number(args[args.indexOf('--rms') + 1] ?? 7) || 7;
const cluster = await startLocalCluster('bench/distributed.ts', 4);
const { url, pacta } = cluster;

interface Row {
  run: string;
  distinct: number;
  seconds: number;
  statesPerSecond: number;
  bytesPerState?: number;
  roundTripsPerState?: number;
  maxShareBytes?: number;
}
const rows: Row[] = [];
try {
  const base = ['check', 'two-phase', '--param', `rms=${rms}`, '--no-liveness', '--json'];
  const alone = JSON.parse((await pacta([...base, '--workers', '1'])).out);
  rows.push({ run: 'one process (no Redis)', distinct: alone.distinctStates, seconds: alone.seconds, statesPerSecond: alone.statesPerSecond });
  for (const n of [1, 2, 4]) {
    const r = await pacta([...base, '--cluster', url, '--workers', String(n)]);
    if (r.code !== 0) throw new Error(`cluster run with ${n} workers: exit ${r.code}: ${r.err}`);
    const j = JSON.parse(r.out);
    if (j.distinctStates !== alone.distinctStates) throw new Error(`cluster run with ${n} workers found ${j.distinctStates} states, one process ${alone.distinctStates}`);
    const c = j.cluster;
    rows.push({
      run: `partitioned BFS, ${n} worker${n > 1 ? 's' : ''}`,
      distinct: j.distinctStates,
      seconds: j.seconds,
      statesPerSecond: j.statesPerSecond,
      bytesPerState: c.bytesSent / j.distinctStates,
      roundTripsPerState: c.roundTrips / j.distinctStates,
      maxShareBytes: Math.max(...c.workers.map((w: { visitedBytes: number }) => w.visitedBytes)),
    });
  }
  const swarmRows: string[][] = [];
  for (const n of [1, 2, 4]) {
    const r = await pacta(['check', 'two-phase', '--param', `rms=${rms}`, '--mode', 'random', '--walks', '20000', '--cluster', url, '--workers', String(n), '--json']);
    const j = JSON.parse(r.out);
    swarmRows.push([`swarm, ${n} worker${n > 1 ? 's' : ''}`, j.walks.toLocaleString('en-US'), j.steps.toLocaleString('en-US'), j.seconds.toFixed(1), Math.round(j.steps / j.seconds).toLocaleString('en-US'), String(j.cluster.jobs)]);
  }
  console.log(`two-phase rms=${rms}, ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(table(['run', 'distinct states', 'seconds', 'states/s', 'bytes sent / state', 'round trips / state', 'largest share of the visited set'], rows.map((r) => [
    r.run, r.distinct.toLocaleString('en-US'), r.seconds.toFixed(1), Math.round(r.statesPerSecond).toLocaleString('en-US'),
    r.bytesPerState === undefined ? '' : r.bytesPerState.toFixed(1), r.roundTripsPerState === undefined ? '' : r.roundTripsPerState.toFixed(4),
    r.maxShareBytes === undefined ? '' : `${(r.maxShareBytes / 2 ** 20).toFixed(1)} MiB`,
  ])));
  console.log(table(['swarm (random mode)', 'walks', 'steps', 'seconds', 'steps/s', 'jobs'], swarmRows));
} finally {
  cluster.stop();
}
