/**
 * Election timeouts in the executor: raft-kv's `timeout` action declares `restartOn: 'state'`,
 * and a follower records each heartbeat of its leader in its state (log reads: `quiet` is the
 * clock reading of the last one), so the runtime draws a new timeout on every heartbeat, as Raft
 * does. Under a healthy leader no follower starts an election. (Before `restartOn`, the timer ran
 * from when the action became enabled, and a 3-node cluster with log reads went through ~22 terms
 * in 3 s: docs/running-a-cluster.md.)
 */
import { describe, expect, it } from 'vitest';
import { simulatedClock, startCluster } from '../impl/index.ts';
import { protocol, t } from '../specs/core/index.ts';
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

// ActionDef.restartOn in the runtime, on a spec of two nodes: `sender` pings `receiver` every 30 ms
// while on; `receiver`'s `expire` (100 ms) restarts on a message or on a state change. The ping
// either changes the receiver's state (`count`) or not (`quiet`).
const Ping = t.union('kind', { ping: {} });
const p = protocol({ name: 'restart-probe', params: { count: true }, messages: Ping });
const State = t.struct({ on: t.bool, pings: t.u32, expired: t.u32 });
function probe(restartOn: 'message' | 'state') {
  return p.define({
    roles: {
      node: p.role(State)({
        count: 2,
        init: (ctx) => ({ on: ctx.index === 0, pings: 0, expired: 0 }),
        onMessage: (s, _from, _m, _out, ctx) => (ctx.params.count ? { ...s, pings: s.pings + 1 } : s),
        actions: {
          ping: { when: (s) => s.on, do: (s, out, ctx) => (out.send(ctx.nodes('node')[1]!, { kind: 'ping' }), s), timerMs: [30, 30] },
          stop: { do: (s) => ({ ...s, on: false }) },
          expire: { when: (s, ctx) => ctx.index === 1, do: (s) => ({ ...s, expired: s.expired + 1 }), timerMs: [100, 100], restartOn },
        },
      }),
    },
  });
}

describe('ActionDef.restartOn in the node runtime', () => {
  type S = { pings: number; expired: number };
  async function run(restartOn: 'message' | 'state', count: boolean): Promise<{ during: number; after: number }> {
    const clock = simulatedClock();
    const cluster = await startCluster(probe(restartOn), { transport: 'memory', clock, syncMode: 'none', params: { count } });
    try {
      for (let i = 0; i < 50; i++) { clock.advance(10); await cluster.idle(); } // 500 ms of pings every 30 ms
      const during = cluster.state<S>(1)!.expired;
      await cluster.fire(0, 'stop');
      for (let i = 0; i < 30; i++) { clock.advance(10); await cluster.idle(); } // 300 ms without
      return { during, after: cluster.state<S>(1)!.expired };
    } finally {
      await cluster.close();
    }
  }

  it("'message': every message handled pushes the timer back, whether or not the state changes", async () => {
    const r = await run('message', false);
    expect(r.during).toBe(0);
    expect(r.after).toBeGreaterThanOrEqual(2); // once the pings stop, it fires every 100 ms
  });

  it("'state': only steps that change the state push it back", async () => {
    const r = await run('state', true);
    expect(r.during).toBe(0);
    expect(r.after).toBeGreaterThanOrEqual(2);
    // Pings that change nothing do not restart it: it fires every 100 ms meanwhile.
    expect((await run('state', false)).during).toBeGreaterThanOrEqual(4);
  });
});
