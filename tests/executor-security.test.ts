/**
 * Strangers on every path, on a running raft-kv cluster: mutual TLS between every member (nodes
 * and client) with a node restart; a plaintext peer and a peer whose certificate chains to
 * another CA are refused even with the cluster key; a replayed frame is dropped and counted in the
 * node's transport stats (udp and tcp); 2,000 idle strangers connected to a node do not stop the
 * cluster's traffic. (Transport-level detail: impl/net/tcpTransport.test.ts, udpTransport.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { startCluster, tcpTransport, type Cluster } from '../impl/index.ts';
import { FrameCodec } from '../impl/net/frame.ts';
import { encodeHello } from '../impl/net/tcpTransport.ts';
import { Writer } from '../specs/core/index.ts';
import raftKv, { type KvOp, type KvResult, type KvServer } from '../specs/raft/raft-kv.ts';

const testdata = (name: string): Buffer => readFileSync(new URL(`../impl/net/testdata/${name}`, import.meta.url));
const member = { key: testdata('member.key'), cert: testdata('member.crt'), ca: testdata('cluster-ca.crt') };
const stranger = { key: testdata('stranger.key'), cert: testdata('stranger.crt'), ca: testdata('cluster-ca.crt') };
const key = Buffer.alloc(32, 0x42);
const clusterId = 9;
const params = { maxTerm: 1_000_000, keys: 100, values: 1_000_000, clients: 1 };

const leader = (c: Cluster<KvOp, KvResult>): number | undefined => c.nodes.find((id) => c.state<KvServer>(id)?.role === 'leader');
let lastSeq = 0;
const freshSeq = (): number => (lastSeq = Math.max(lastSeq + 1, Date.now() * 1024));

describe('a raft-kv cluster keeps strangers out', { timeout: 180_000 }, () => {
  it('runs over tcp with mutual TLS (3 nodes, a client, a node restart) and refuses plaintext and foreign-CA peers', async () => {
    const c = await startCluster<KvOp, KvResult>(raftKv, { transport: 'tcp', nodes: 3, params, key, clusterId, tls: member, syncMode: 'none', invokeTimeoutMs: 30_000 });
    try {
      const client = c.client(0);
      for (let i = 0; i < 5; i++) expect(await client.invoke({ kind: 'put', key: i, value: 100 + i })).toEqual({ kind: 'ok' });
      // A follower restarts (same port, same certificate) and the cluster goes on.
      const follower = c.nodes.find((id) => id !== leader(c))!;
      await c.crash(follower);
      await c.restart(follower);
      for (let i = 5; i < 10; i++) expect(await client.invoke({ kind: 'put', key: i, value: 100 + i })).toEqual({ kind: 'ok' });
      await c.waitUntil(() => (c.state<KvServer>(follower)?.commit ?? 0) >= 10, { timeoutMs: 60_000 });
      expect(await client.invoke({ kind: 'get', key: 7 })).toMatchObject({ kind: 'value', value: 107 });

      // Peers that hold the cluster key but no certificate of the cluster's CA.
      const target = leader(c)!;
      const address = c.address(target)!;
      const before = c.transportStats(target)!;
      const plain = await tcpTransport({ self: 3, clusterId, key, peers: { [target]: address }, onError: () => {} });
      const foreign = await tcpTransport({ self: 3, clusterId, key, peers: { [target]: address }, tls: stranger, onError: () => {} });
      const request = Buffer.from([0]); // never decoded: refused before
      plain.send(target, 1, request);
      foreign.send(target, 1, request);
      await c.waitUntil(() => c.transportStats(target)!.dropped['no-hello'] >= before.dropped['no-hello'] + 2, { timeoutMs: 60_000 });
      await plain.close();
      await foreign.close();
      expect(c.transportStats(target)!.framesReceived - before.framesReceived).toBeLessThan(1000); // only the members' traffic
      expect(c.node(target).stats.dropped.undecodable).toBe(0); // nothing of theirs reached the runtime
    } finally {
      await c.close();
    }
  }, 180_000);

  for (const transport of ['udp', 'tcp'] as const) {
    it(`drops a replayed frame and counts it in the node's stats (${transport})`, async () => {
      const c = await startCluster<KvOp, KvResult>(raftKv, { transport, nodes: 3, params, key, clusterId, syncMode: 'none', invokeTimeoutMs: 30_000 });
      try {
        await c.waitUntil(() => leader(c) !== undefined, { timeoutMs: 60_000 });
        const target = 0;
        const address = c.address(target)!;
        const codec = new FrameCodec({ clusterId, key });
        // An authentic protocol message (a stale vote from node 1), captured once and sent twice.
        const w = new Writer(64);
        raftKv.messages.encode(w, { kind: 'vote', term: 1, granted: false });
        const captured = codec.encode({ kind: 0, from: 1, to: target, seq: freshSeq() }, w.toBytes());
        const before = c.transportStats(target)!.dropped.replayed;
        if (transport === 'udp') {
          const sock = createSocket('udp4');
          for (let i = 0; i < 2; i++) await new Promise<void>((r) => sock.send(captured, address.port, address.host, () => r()));
          sock.close();
        } else {
          for (let i = 0; i < 2; i++) {
            const s = connect(address.port, address.host);
            await new Promise<void>((r) => s.once('connect', () => r()));
            s.write(encodeHello(codec, 1, target, freshSeq()));
            await new Promise<void>((r) => s.end(captured, () => r()));
            await new Promise<void>((r) => s.once('close', () => r()));
          }
        }
        await c.waitUntil(() => c.transportStats(target)!.dropped.replayed === before + 1, { timeoutMs: 60_000 });
        expect(c.node(target).status).toBe('running');
      } finally {
        await c.close();
      }
    }, 180_000);
  }

  it('2,000 idle strangers connected to the leader (tcp, TLS) do not stop the cluster', async () => {
    const c = await startCluster<KvOp, KvResult>(raftKv, { transport: 'tcp', nodes: 3, params, key, clusterId, tls: member, syncMode: 'none', invokeTimeoutMs: 30_000 });
    const strangers: Socket[] = [];
    try {
      const client = c.client(0);
      expect(await client.invoke({ kind: 'put', key: 1, value: 1 })).toEqual({ kind: 'ok' });
      const target = leader(c)!;
      const address = c.address(target)!;
      for (let i = 0; i < 2000; i++) {
        // They never say anything; a few start a TLS handshake with no certificate.
        const s = i % 40 === 0 ? tlsConnect({ host: address.host, port: address.port, rejectUnauthorized: false }) : connect(address.port, address.host);
        s.on('error', () => {});
        strangers.push(s);
      }
      await c.waitUntil(() => c.transportStats(target)!.dropped['no-hello'] >= 1000, { timeoutMs: 90_000 });
      for (let i = 2; i < 22; i++) expect(await client.invoke({ kind: 'put', key: i, value: i })).toEqual({ kind: 'ok' });
      expect(c.nodes.map((id) => c.node(id).status)).toEqual(['running', 'running', 'running']);
    } finally {
      for (const s of strangers) s.destroy();
      await c.close();
    }
  }, 180_000);
});
