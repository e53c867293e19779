/**
 * Message size on the executor: a raft-kv follower 10,000 entries behind catches up over udp in
 * bounded AppendEntries batches (the `batch` param), and no node fails. Before batching, the
 * leader put every missing entry in one message: about 4,900 entries behind, the message passed
 * udp's 65,463-byte payload limit and the leader failed (issue 24).
 *
 * Two servers start from logs of 10,000 entries written beforehand (their durable projection, as
 * the runtime saves it) and elect a leader; the third, empty, joins them then. (A step that
 * changes a server's log re-packs it for the durable save, and the first step of a node checks the
 * whole state: a few ms each for a 10,000-entry log on an idle machine, ten times that on a loaded
 * one. Heartbeats check only the fields they change. The test took 37 s at load 12 on 2 cores.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterLayout, fileStore, startCluster, type NodeEvent } from '../impl/index.ts';
import { resolveClusterParams } from '../impl/layout.ts';
import { protocol, t, Writer } from '../specs/core/index.ts';
import raftKv, { type KvEntry, type KvOp, type KvResult, type KvServer } from '../specs/raft/raft-kv.ts';

const ENTRIES = 10_000;

// A node that sends what it is told: a blob of any size.
const BlobMsg = t.union('kind', { blob: { data: t.string } });
const blobs = protocol({ name: 'blobs', params: {}, messages: BlobMsg });
const Sender = t.struct({ got: t.u32, size: t.u32 });
const blobSpec = blobs.define({
  roles: {
    node: blobs.role(Sender)({
      count: 2,
      init: () => ({ got: 0, size: 0 }),
      onMessage: (s, _from, m) => ({ ...s, got: s.got + 1, size: m.data.length }),
      actions: {
        send: {
          choices: () => [10, 70_000],
          do: (s, out, ctx, size: number) => (out.send(ctx.nodes('node').find((n) => n !== ctx.self)!, { kind: 'blob', data: 'x'.repeat(size) }), s),
        },
      },
    }),
  },
});

describe('a send larger than the transport takes', { timeout: 180_000 }, () => {
  it('is dropped, counted and reported (udp): the node survives and goes on', async () => {
    const events: NodeEvent[] = [];
    const cluster = await startCluster(blobSpec, { transport: 'udp', syncMode: 'none', onEvent: (e) => events.push(e) });
    try {
      expect(await cluster.fire(0, 'send', 70_000)).toBe(true);
      expect(cluster.node(0).status).toBe('running');
      expect(cluster.node(0).stats.dropped.oversized).toBe(1);
      expect(events.find((e) => e.kind === 'dropped')).toMatchObject({ reason: 'oversized', node: 0 });
      expect(await cluster.fire(0, 'send', 10)).toBe(true);
      await cluster.waitUntil(() => cluster.state<{ got: number }>(1)?.got === 1);
      expect(cluster.state(1)).toEqual({ got: 1, size: 10 });
    } finally {
      await cluster.close();
    }
  });
});

describe('a lagging follower catches up in bounded messages', { timeout: 180_000 }, () => {
  it(`a follower ${ENTRIES.toLocaleString('en')} entries behind catches up over udp without any node failing`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pacta-catchup-'));
    const params = { maxTerm: 1_000_000, keys: 1_000, values: 1_000_000, clients: 1 };
    try {
      const layout = new ClusterLayout(raftKv, resolveClusterParams(raftKv, params), { clients: 1 });
      const client = layout.clients!.role.base;
      const log: KvEntry[] = Array.from({ length: ENTRIES }, (_, i) => ({
        term: 2, ts: 0, closed: 0, cmd: { client, id: i, by: 0, op: { kind: 'put', key: i % 1000, value: i + 1 } },
      }));
      const role = raftKv.roles.server!;
      for (const id of [0, 1]) {
        const state: KvServer = { ...(role.init(layout.ctx(id)) as KvServer), term: 2, votedFor: 0, log };
        const w = new Writer(1 << 20);
        role.state.encode(w, state);
        const store = fileStore(join(dataDir, `node-${id}.log`), { syncMode: 'none' });
        await store.open();
        await store.save(w.toBytes());
        await store.close();
      }
      const events: NodeEvent[] = [];
      const cluster = await startCluster<KvOp, KvResult>(raftKv, { transport: 'udp', nodes: 3, params, dataDir, syncMode: 'none', onEvent: (e) => events.push(e) });
      try {
        // The empty server is down while the others elect a leader (an empty server that keeps
        // timing out would keep raising the term: Raft without pre-vote), then comes back.
        await cluster.crash(2);
        await cluster.waitUntil(() => cluster.nodes.some((id) => (cluster.state<KvServer>(id)?.commit ?? 0) > ENTRIES), { timeoutMs: 120_000, pollMs: 20 });
        await cluster.restart(2);
        await cluster.waitUntil(() => (cluster.state<KvServer>(2)?.log.length ?? 0) > ENTRIES && cluster.state<KvServer>(2)!.commit > ENTRIES, { timeoutMs: 240_000, pollMs: 20 });
        // The follower holds the leader's log, and every node is still running.
        const leader = cluster.nodes.find((id) => cluster.state<KvServer>(id)?.role === 'leader')!;
        expect(cluster.state<KvServer>(2)!.log.slice(0, ENTRIES)).toEqual(log);
        expect(cluster.nodes.map((id) => cluster.node(id).status)).toEqual(['running', 'running', 'running']);
        expect(events.filter((e) => e.kind === 'error')).toEqual([]);
        expect(cluster.nodes.map((id) => cluster.node(id).stats.dropped.oversized)).toEqual([0, 0, 0]);
        // In bounded messages: no frame the leader sent was near the limit.
        const t = cluster.transportStats(leader)!;
        expect(t.dropped.oversized).toBe(0);
        expect(cluster.node(2).stats.messages).toBeGreaterThan(ENTRIES / 64);
        // The cluster serves a write afterwards.
        expect(await cluster.client(0).invoke({ kind: 'put', key: 1, value: 42 })).toEqual({ kind: 'ok' });
      } finally {
        await cluster.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 420_000);
});
