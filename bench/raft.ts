/**
 * Raft KV benchmark: committed operations per second and client latency (p50, p99) of the bundled
 * `raft-kv` spec running as a 3-node cluster in this process, on the memory transport and on udp
 * over loopback, with durable logs flushed by fdatasync (the cluster's default).
 *
 *   npx tsx bench/raft.ts            (about 20 s)
 *   npx tsx bench/raft.ts --quick    (shorter windows, noisier)
 *
 * Method. 8 clients run the live tests' workload (tests/executor-raft-workload.ts), one call at a
 * time each, on 3 keys: `put` only with log reads (every call is a committed log entry), and
 * half `put`, half `get` with lease reads (gets answered by the leaseholder without consensus).
 * After the first leader is elected and a warm-up, the figure is the number of acknowledged calls
 * (`notLeader` answers excluded) over the measured window; latencies are those of the calls
 * acknowledged in it. The leader replicates on proposal (the spec's `replicate` action, run at the
 * end of the event-loop turn, pipelined; until issue 20 it waited for the 50 ms `appendEntries`
 * timer), so a write costs the leader's flush, a round trip and a follower's flush. Everything
 * shares one event loop on a shared machine: figures are noisy. The comparison with etcd is
 * bench/raft-vs-etcd.ts.
 */
import { performance } from 'node:perf_hooks';
import { table } from '../cli/format.ts';
import { startCluster } from '../impl/index.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { leaderOf, startWorkload, type RaftOp, type RaftResult, type RaftServer } from '../tests/executor-raft-workload.ts';

const quick = process.argv.includes('--quick');
const warmupMs = quick ? 300 : 1000;
const measureMs = quick ? 1000 : 3500;
const clients = 8;

interface Figure {
  transport: string;
  reads: string;
  workload: string;
  opsPerSecond: number;
  p50: number;
  p99: number;
  terms: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(transport: 'memory' | 'udp', reads: 'log' | 'lease'): Promise<Figure> {
  const cluster = await startCluster<RaftOp, RaftResult>(raftKv, {
    transport, nodes: 3, seed: 1, invokeTimeoutMs: 1000,
    params: { maxTerm: 1_000_000, clients, keys: 3, reads, electionTicks: 300 },
  });
  try {
    await cluster.waitUntil(() => leaderOf(cluster) !== undefined, { timeoutMs: 5_000 });
    const load = startWorkload(cluster, { clients, keys: 3, seed: 9, mix: reads === 'log' ? [1, 0, 0] : [1, 1, 0] });
    await new Promise((done) => setTimeout(done, warmupMs));
    const term0 = cluster.state<RaftServer>(leaderOf(cluster)!)!.term;
    const acked0 = load.counts.acked;
    const lat0 = load.latenciesMs.length;
    const t0 = performance.now();
    await new Promise((done) => setTimeout(done, measureMs));
    const acked = load.counts.acked - acked0;
    const seconds = (performance.now() - t0) / 1000;
    const lat = load.latenciesMs.slice(lat0).sort((a, b) => a - b);
    const term1 = Math.max(...cluster.nodes.map((id) => cluster.state<RaftServer>(id)?.term ?? 0));
    await load.stop();
    return {
      transport, reads, workload: reads === 'log' ? 'put' : 'put 50% / get 50%',
      opsPerSecond: acked / seconds, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), terms: term1 - term0,
    };
  } finally {
    await cluster.close();
  }
}

const figures: Figure[] = [];
for (const transport of ['memory', 'udp'] as const) {
  for (const reads of ['log', 'lease'] as const) figures.push(await measure(transport, reads));
}
console.log(`raft-kv, 3 servers, ${clients} clients, fdatasync, ${measureMs} ms window after ${warmupMs} ms warm-up (shared machine: noisy)`);
console.log(table(
  ['transport', 'reads', 'workload', 'ops/s', 'p50 ms', 'p99 ms', 'new terms'],
  figures.map((f) => [f.transport, f.reads, f.workload, f.opsPerSecond.toFixed(0), f.p50.toFixed(1), f.p99.toFixed(1), String(f.terms)]),
  ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
));
