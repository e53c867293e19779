/**
 * Jepsen-style runs of the raft-kv spec as a live 3-node (and one 5-node) cluster: 4 concurrent clients doing
 * put / get / cas on 3 keys while the leader crashes and restarts, and then the new leader is cut
 * off from the other servers (a fifth client keeps reading from it) and healed. The recorded client history (every call, with timed-out
 * calls as unknown outcomes) is checked with checker/linearizability's `kvModel`, for log reads
 * and for lease reads, on the memory transport and on udp over loopback. Each run is bounded: a
 * phase that does not finish within its timeout fails the test.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizability, kvModel } from '../checker/linearizability/index.ts';
import { InvokeTimeout, startCluster } from '../impl/index.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { kvHistory, leaderOf, startWorkload, type RaftOp, type RaftResult, type RaftServer } from './executor-raft-workload.ts';

interface Run {
  transport: 'memory' | 'udp';
  reads: 'log' | 'lease' | 'index';
  /** Servers (default 3). */
  servers?: number;
}

async function jepsen({ transport, reads, servers = 3 }: Run): Promise<void> {
  const cluster = await startCluster<RaftOp, RaftResult>(raftKv, {
    transport, nodes: servers, syncMode: 'none', seed: 5, invokeTimeoutMs: 300,
    // Lease reads need the quiet period to cover the election timeout (ms ticks: 300 ≥ [150, 300]).
    params: { maxTerm: 1_000_000, clients: 5, keys: 3, reads, electionTicks: 300 },
  });
  const load = startWorkload(cluster, { clients: 4, keys: 3, seed: transport === 'udp' ? 7 : 3 });
  const wait = (what: () => boolean, timeoutMs = 4_000): Promise<void> => cluster.waitUntil(what, { timeoutMs });
  try {
    await wait(() => leaderOf(cluster) !== undefined && load.counts.acked >= 20);
    // 1. The leader crashes; another is elected; the old one restarts from its log.
    const first = leaderOf(cluster)!;
    await cluster.crash(first);
    await wait(() => leaderOf(cluster) !== undefined && leaderOf(cluster) !== first);
    const afterCrash = load.counts.acked;
    await wait(() => load.counts.acked >= afterCrash + 20);
    await cluster.restart(first);
    // 2. The current leader is cut off from both other servers (its clients still reach it):
    //    the majority elects another leader and goes on; then the partition heals.
    //    Client 4 stays with the cut-off leader and only reads, as a client of that server would:
    //    a leaseholder may answer while its lease lasts, never after the majority moved on.
    const second = leaderOf(cluster)!;
    cluster.partition(second, cluster.nodes.filter((id) => id !== second));
    let partitioned = true;
    const stuck = (async () => {
      for (let i = 0; partitioned; i++) {
        try {
          await cluster.client(4).invoke({ kind: 'get', key: i % 3 }, { to: second, timeoutMs: 100 });
        } catch (e) {
          if (!(e instanceof InvokeTimeout)) throw e;
        }
      }
    })();
    await wait(() => { const l = leaderOf(cluster); return l !== undefined && l !== second && cluster.state<RaftServer>(l)!.term > cluster.state<RaftServer>(second)!.term; });
    const afterPartition = load.counts.acked;
    await wait(() => load.counts.acked >= afterPartition + 20);
    partitioned = false;
    await stuck;
    cluster.heal();
    const afterHeal = load.counts.acked;
    await wait(() => load.counts.acked >= afterHeal + 20);
    await load.stop();

    const history = kvHistory(cluster);
    const acked = history.operations.filter((o) => o.output !== undefined).length;
    expect(acked).toBeGreaterThanOrEqual(80);
    expect(history.operations.some((o) => o.input.f === 'cas' && o.output === true)).toBe(true);
    if (reads === 'lease') expect(load.counts.lease).toBeGreaterThan(0);
    if (reads === 'index') expect(load.counts.index).toBeGreaterThan(0);
    const verdict = checkLinearizability(history, kvModel, { timeLimitSeconds: 10 });
    expect(verdict.result).toBe('linearizable');
    for (const id of cluster.nodes) expect(cluster.node(id).failure).toBeUndefined();
    // The restarted leader kept its durable term and log and caught up with the others.
    await wait(() => cluster.nodes.every((id) => cluster.state<RaftServer>(id)!.commit === cluster.state<RaftServer>(leaderOf(cluster)!)!.commit));
  } finally {
    await load.stop();
    await cluster.close();
  }
}

describe('raft-kv as a live cluster under crashes, restarts and partitions (Jepsen-style)', { timeout: 180_000 }, () => {
  for (const transport of ['memory', 'udp'] as const) {
    for (const reads of ['log', 'lease'] as const) {
      it(`${transport}, ${reads} reads: the history is linearizable and the workload progressed after every fault`, async () => {
        await jepsen({ transport, reads });
      }, 180_000);
    }
  }
  // ReadIndex: the cut-off leader cannot confirm a round, so client 4's reads there time out.
  it('memory, ReadIndex reads: the history is linearizable and the workload progressed after every fault', async () => {
    await jepsen({ transport: 'memory', reads: 'index' });
  }, 180_000);
  it('memory, log reads, 5 servers: the same faults, a larger majority', async () => {
    await jepsen({ transport: 'memory', reads: 'log', servers: 5 });
  }, 180_000);
});
