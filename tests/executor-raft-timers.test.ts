/**
 * Election timeouts in the executor: raft-kv's `timeout` action declares `restartOn: 'state'`,
 * and a follower records each heartbeat of its leader in its state (log reads: `quiet` is the
 * clock reading of the last one), so the runtime draws a new timeout on every heartbeat, as Raft
 * does. Under a healthy leader no follower starts an election. (Before `restartOn`, the timer ran
 * from when the action became enabled, and a 3-node cluster with log reads went through ~22 terms
 * in 3 s: docs/running-a-cluster.md.)
 */
import { describe, expect, it } from 'vitest';
import { startCluster } from '../impl/index.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import { leaderOf, startWorkload, type RaftOp, type RaftResult, type RaftServer } from './executor-raft-workload.ts';

describe('raft-kv election timer in the executor', () => {
  it('with log reads, one leader keeps its term through 2 s of client traffic (memory transport)', async () => {
    let elections = 0;
    let restarts = 0;
    const cluster = await startCluster<RaftOp, RaftResult>(raftKv, {
      transport: 'memory', nodes: 3, syncMode: 'none', seed: 3,
      params: { maxTerm: 1_000_000, clients: 3, keys: 3, reads: 'log' },
      onEvent: (e) => {
        if (e.kind === 'step' && e.action === 'timeout' && e.changed) elections++;
      },
    });
    try {
      await cluster.waitUntil(() => leaderOf(cluster) !== undefined, { timeoutMs: 5_000 });
      const leader = leaderOf(cluster)!;
      const term = cluster.state<RaftServer>(leader)!.term;
      const electionsBefore = elections;
      const load = startWorkload(cluster, { clients: 3, keys: 3, seed: 11 });
      await new Promise((done) => setTimeout(done, 2_000));
      await load.stop();
      for (const id of cluster.nodes) restarts += cluster.node(id).stats.timerRestarts;
      // The same leader, in the same term, on every server; no election was started meanwhile.
      expect(leaderOf(cluster)).toBe(leader);
      for (const id of cluster.nodes) expect(cluster.state<RaftServer>(id)!.term).toBe(term);
      expect(elections - electionsBefore).toBe(0);
      // The followers' timers were pushed back by heartbeats (2 s / 50 ms per follower, about 80).
      expect(restarts).toBeGreaterThan(40);
      expect(load.counts.acked).toBeGreaterThan(50);
    } finally {
      await cluster.close();
    }
  });
});
