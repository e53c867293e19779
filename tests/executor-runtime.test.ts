/**
 * The node runtime: two-phase commit driven as a cluster over memory, udp and tcp; a handler
 * that throws stops its node only, leaving its durable state as it was; a step's frames leave
 * only after its durable write is flushed; action timers follow `timerMs`; clock readings; and
 * frames from outside the cluster (bad tag, wrong cluster, truncated or oversized length, random
 * bytes) and authentic frames the spec cannot read are dropped and counted while the node keeps
 * serving.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ClusterLayout, MemoryNetwork, NodeRuntime, simulatedClock, startCluster, type DurableStore, type NodeEvent,
} from '../impl/index.ts';
import { FrameCodec } from '../impl/net/frame.ts';
import { encodeHello } from '../impl/net/tcpTransport.ts';
import { protocol, t, Writer } from '../specs/core/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

describe('two-phase commit as a cluster', () => {
  for (const transport of ['memory', 'udp', 'tcp'] as const) {
    it(`commits over ${transport}: RMs prepare, the TM commits, every RM commits, and the decision survives a TM crash`, async () => {
      const cluster = await startCluster(twoPhase, { transport, nodes: 4 });
      try {
        expect(cluster.params).toEqual({ rms: 3 });
        const tm = 0;
        const rms = [1, 2, 3];
        // Not every RM has prepared: commit is not enabled.
        expect(await cluster.fire(rms[0]!, 'prepare')).toBe(true);
        expect(await cluster.fire(tm, 'commit')).toBe(false);
        for (const rm of rms.slice(1)) expect(await cluster.fire(rm, 'prepare')).toBe(true);
        await cluster.waitUntil(() => cluster.state<{ prepared: number[] }>(tm)!.prepared.length === 3);
        expect(await cluster.fire(tm, 'commit')).toBe(true);
        await cluster.waitUntil(() => rms.every((rm) => cluster.state(rm) === 'committed'));
        // The TM's decision was flushed before the commit messages went out: a crash keeps it.
        await cluster.crash(tm);
        expect(cluster.node(tm).status).toBe('down');
        await cluster.restart(tm);
        expect(cluster.state(tm)).toEqual({ phase: 'committed', prepared: [1, 2, 3] });
        expect(await cluster.fire(tm, 'abort')).toBe(false);
        // 3 prepared + 3 commit frames went through the network, authenticated.
        const received = rms.reduce((n, rm) => n + cluster.transportStats(rm)!.framesReceived, 0);
        expect(received).toBe(3);
      } finally {
        await cluster.close();
      }
    });
  }

  it('reports misuse with coded errors', async () => {
    await expect(startCluster(twoPhase, { transport: 'carrier-pigeon' as never })).rejects.toMatchObject({ code: 'startCluster/bad-transport' });
    await expect(startCluster(twoPhase, { transport: 'memory', nodes: 4, params: { rms: 2 } })).rejects.toMatchObject({ code: 'startCluster/bad-nodes' });
    await expect(startCluster(twoPhase, { transport: 'memory', params: { rmz: 2 } })).rejects.toMatchObject({ code: 'startCluster/unknown-param' });
    const cluster = await startCluster(twoPhase, { transport: 'memory' });
    await expect(cluster.fire(1, 'teleport')).rejects.toMatchObject({ code: 'NodeRuntime.fire/unknown-action' });
    expect(() => cluster.client()).toThrowError(expect.objectContaining({ code: 'Cluster.client/unknown-client' }));
    await cluster.close();
    await expect(cluster.crash(0)).rejects.toMatchObject({ code: 'Cluster.crash/closed' });
  });
});

// A small protocol that exercises every path of the runtime.
const Msg = t.union('kind', { ping: { n: t.u32 }, boom: {} });
const Op = t.union('f', { read: {}, incr: {}, now: {}, boom: {} });
const Result = t.union('kind', { value: { n: t.u32 }, interval: { earliest: t.int, latest: t.int } });
const probe = protocol({ name: 'probe', params: {}, messages: Msg, client: { op: Op, result: Result } });
const Probe = t.struct({ n: t.u32, beats: t.u32, on: t.bool });
const probeNode = probe.role(Probe)({
  count: 2,
  durable: ['n'],
  init: () => ({ n: 0, beats: 0, on: false }),
  onMessage: (s, _from, m) => {
    switch (m.kind) {
      case 'ping':
        return { ...s, n: s.n + m.n };
      case 'boom':
        throw new Error('kaboom');
    }
  },
  onRequest: (s, req, out, ctx) => {
    const other = ctx.nodes('node').find((x) => x !== ctx.self)!;
    switch (req.op.f) {
      case 'read':
        out.reply({ kind: 'value', n: s.n });
        return s;
      case 'incr':
        out.send(other, { kind: 'ping', n: 1 });
        out.reply({ kind: 'value', n: s.n + 1 });
        return { ...s, n: s.n + 1 };
      case 'now': {
        const tt = out.trueTime();
        out.reply({ kind: 'interval', earliest: tt.earliest, latest: tt.latest });
        return s;
      }
      case 'boom':
        out.send(other, { kind: 'boom' });
        return s;
    }
  },
  actions: {
    /** A heartbeat while on: re-armed after each firing. */
    beat: { when: (s) => s.on, do: (s) => ({ ...s, beats: s.beats + 1 }), timerMs: [10, 10] },
    /** No timerMs: runs only when fired (or with defaultTimerMs). */
    toggle: { do: (s) => ({ ...s, on: !s.on }) },
    /** Sends a message that does not fit the schema. */
    badSend: { do: (s, out) => (out.send(1, { kind: 'ping', n: -5 }), s) },
    /** Returns a state that does not fit the schema. */
    corrupt: { do: (s) => ({ ...s, n: -1 }) },
  },
});
const probeSpec = probe.define({
  roles: { node: probeNode },
  clients: { count: 1, target: 'node', ops: () => [{ f: 'read' }], opsPerClient: 1 },
});
type ProbeOp = typeof Op.__type;
type ProbeResult = typeof Result.__type;

describe('the node runtime', () => {
  it('stops only the node whose handler throws, with a clear error, and keeps its durable state', async () => {
    const events: NodeEvent[] = [];
    const cluster = await startCluster<ProbeOp, ProbeResult>(probeSpec, { transport: 'memory', onEvent: (e) => events.push(e), invokeTimeoutMs: 200 });
    try {
      const c = cluster.client();
      expect(await c.invoke({ f: 'incr' }, { to: 0 })).toEqual({ kind: 'value', n: 1 });
      await cluster.waitUntil(() => cluster.state<{ n: number }>(1)?.n === 1);
      // Node 0 makes node 1 throw.
      await expect(c.invoke({ f: 'boom' }, { to: 0, timeoutMs: 50 })).rejects.toMatchObject({ code: 'ClusterClient.invoke/timeout' });
      await cluster.waitUntil(() => cluster.node(1).status === 'failed');
      const failure = cluster.node(1).failure!;
      expect(failure).toMatchObject({ code: 'handler-threw', node: 1, nodeName: 'node2', during: 'onMessage' });
      expect(failure.message).toBe('node2 (onMessage): threw: kaboom');
      expect(events.filter((e) => e.kind === 'error')).toHaveLength(1);
      // Node 0 keeps serving.
      expect(await c.invoke({ f: 'read' }, { to: 0 })).toEqual({ kind: 'value', n: 1 });
      // The failed node restarts from its log: n = 1, the state before the throwing step.
      await cluster.restart(1);
      expect(cluster.state(1)).toEqual({ n: 1, beats: 0, on: false });
      expect(await c.invoke({ f: 'read' }, { to: 1 })).toEqual({ kind: 'value', n: 1 });
    } finally {
      await cluster.close();
    }
  });

  it('fails a node whose step returns a state or sends a message that does not fit the schema, before anything of it takes effect', async () => {
    const cluster = await startCluster<ProbeOp, ProbeResult>(probeSpec, { transport: 'memory' });
    try {
      await expect(cluster.fire(0, 'badSend')).rejects.toMatchObject({ code: 'bad-effect', during: 'action badSend' });
      expect(cluster.node(0).failure!.message).toMatch(/sent a message that does not fit its schema: .*expected u32, got -5/);
      expect(cluster.transportStats(1)!.framesReceived).toBe(0);
      await cluster.restart(0);
      expect(cluster.node(0).status).toBe('running');
      await expect(cluster.fire(1, 'corrupt')).rejects.toMatchObject({ code: 'bad-state', nodeName: 'node2' });
      expect(cluster.node(1).failure!.message).toMatch(/returned a state that does not fit its schema: .*expected u32, got -1/);
      expect(cluster.node(0).status).toBe('running');
      // After steps that changed the state (then only the fields a step replaces are checked).
      expect(await cluster.fire(0, 'toggle')).toBe(true);
      expect(await cluster.fire(0, 'toggle')).toBe(true);
      await expect(cluster.fire(0, 'corrupt')).rejects.toMatchObject({ code: 'bad-state', nodeName: 'node1' });
    } finally {
      await cluster.close();
    }
  });

  it("sends a step's frames only once its durable write is flushed", async () => {
    const clock = simulatedClock();
    const network = new MemoryNetwork({ clusterId: 1, key: new Uint8Array(16).fill(1), seed: 0, clock, delivery: 'manual' });
    const layout = new ClusterLayout(probeSpec, {});
    let release: (() => void) | undefined;
    const flushed: Uint8Array[] = [];
    const store: DurableStore = {
      saves: 0,
      open: async () => ({ projection: undefined, damage: null }),
      save: (bytes) => new Promise<void>((resolve) => (release = () => (flushed.push(bytes), resolve()))),
      close: async () => {},
    };
    const node = new NodeRuntime({ layout, id: 0, clock, store, timers: false });
    await node.open();
    node.start(network.transport(0));
    const client = network.transport(2);
    const w = new Writer();
    layout.clients!.request.encode(w, { id: 0, op: { f: 'incr' } });
    client.send(0, 1, w.toBytes());
    network.deliver(network.inFlight()[0]!.id);
    // The step ran (n = 1, a durable field), but neither the ping nor the reply has left.
    expect(node.state).toMatchObject({ n: 1 });
    expect(network.inFlight()).toHaveLength(0);
    release!();
    await node.idle();
    expect(flushed).toHaveLength(1);
    expect(network.inFlight().map((f) => [f.to, f.kind])).toEqual([[1, 0], [2, 2]]);
    await node.crash();
  });

  it('drops a timer firing queued behind a step that restarted its action (a heartbeat behind a long flush)', async () => {
    const quiet = protocol({ name: 'quiet', params: {}, messages: t.union('kind', { ping: {} }) });
    const Quiet = t.struct({ n: t.u32, expired: t.u32 });
    const spec = quiet.define({
      roles: {
        node: quiet.role(Quiet)({
          count: 2,
          durable: ['n'],
          init: () => ({ n: 0, expired: 0 }),
          onMessage: (s) => ({ ...s, n: s.n + 1 }),
          actions: { expire: { do: (s) => ({ ...s, expired: s.expired + 1 }), timerMs: [10, 10], restartOn: 'message' } },
        }),
      },
    });
    const clock = simulatedClock();
    const network = new MemoryNetwork({ clusterId: 1, key: new Uint8Array(16).fill(1), seed: 0, clock, delivery: 'manual' });
    const layout = new ClusterLayout(spec, {});
    const releases: (() => void)[] = [];
    const store: DurableStore = {
      saves: 0,
      open: async () => ({ projection: undefined, damage: null }),
      save: () => new Promise<void>((resolve) => releases.push(resolve)),
      close: async () => {},
    };
    const node = new NodeRuntime({ layout, id: 0, clock, store });
    await node.open();
    node.start(network.transport(0));
    const peer = network.transport(1);
    const ping = (): void => {
      const w = new Writer();
      layout.protocol.messages.encode(w, { kind: 'ping' });
      peer.send(0, 0, w.toBytes());
      network.deliver(network.inFlight()[0]!.id);
    };
    clock.advance(5);
    ping(); // restarts the timer (due at 15) and starts a flush that does not finish yet
    ping(); // queued behind the flush
    clock.advance(10); // the timer fires at 15 and queues behind the second ping
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    releases.shift()?.();
    await node.idle();
    expect(node.state).toEqual({ n: 2, expired: 0 }); // the second ping restarted it: the firing was stale
    clock.advance(10);
    await node.idle();
    expect(node.state).toEqual({ n: 2, expired: 1 }); // a firing no step overtook runs
    await node.crash();
  });

  it('arms action timers from timerMs, re-arms them while enabled, and runs actions without timerMs only when fired', async () => {
    const clock = simulatedClock();
    const cluster = await startCluster(probeSpec, { transport: 'memory', clock, syncMode: 'none' });
    try {
      clock.advance(100);
      expect(cluster.state(0)).toMatchObject({ beats: 0, on: false }); // toggle has no timer
      expect(await cluster.fire(0, 'toggle')).toBe(true);
      clock.advance(9);
      expect(cluster.state(0)).toMatchObject({ beats: 0 });
      clock.advance(1);
      expect(cluster.state(0)).toMatchObject({ beats: 1 });
      clock.advance(30);
      expect(cluster.state(0)).toMatchObject({ beats: 4 });
      expect(await cluster.fire(0, 'toggle')).toBe(true); // disabled: its timer is cancelled
      clock.advance(100);
      expect(cluster.state(0)).toMatchObject({ beats: 4, on: false });
    } finally {
      await cluster.close();
    }
  });

  it('actionTimerMs replaces an action\'s timerMs; an action the spec lacks is bad input', async () => {
    const clock = simulatedClock();
    const cluster = await startCluster(probeSpec, { transport: 'memory', clock, syncMode: 'none', actionTimerMs: { beat: [25, 25] } });
    try {
      expect(await cluster.fire(0, 'toggle')).toBe(true);
      clock.advance(24);
      expect(cluster.state(0)).toMatchObject({ beats: 0 });
      clock.advance(1);
      expect(cluster.state(0)).toMatchObject({ beats: 1 });
    } finally {
      await cluster.close();
    }
    await expect(startCluster(probeSpec, { transport: 'memory', syncMode: 'none', actionTimerMs: { nope: [1, 2] } })).rejects.toThrow(/actionTimerMs names 'nope', which is no action of/);
  });

  it('with defaultTimerMs, two-phase runs on its own to a consistent decision', async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      const clock = simulatedClock();
      const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, clock, seed, defaultTimerMs: [1, 20], syncMode: 'none', faults: { delayMsMin: 1, delayMsMax: 5 } });
      try {
        // Until no action is enabled and no frame is in flight (flushes are real I/O: await them).
        do {
          clock.runAll(10_000);
          await cluster.idle();
        } while (clock.pendingTimers > 0);
        const tm = cluster.state<{ phase: string }>(0)!;
        const rms = [1, 2, 3].map((id) => cluster.state<string>(id)!);
        expect(tm.phase).not.toBe('init');
        expect(rms.every((s) => s === (tm.phase === 'committed' ? 'committed' : 'aborted'))).toBe(true);
        outcomes.add(tm.phase);
      } finally {
        await cluster.close();
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('reads the clock in spec time units from the cluster start, and TrueTime as [now - ε, now + ε]', async () => {
    const clock = simulatedClock({ startMs: 1_700_000_000_000 });
    const cluster = await startCluster<ProbeOp, ProbeResult>(probeSpec, { transport: 'memory', clock, trueTimeEpsilon: 3, tickMs: 10, syncMode: 'none' });
    try {
      clock.advance(125);
      const p = cluster.client().invoke({ f: 'now' });
      clock.advance(1); // deliveries go through the (simulated) clock's timers
      clock.advance(1);
      expect(await p).toEqual({ kind: 'interval', earliest: 12 - 3, latest: 12 + 3 });
    } finally {
      await cluster.close();
    }
  });
});

describe('frames from outside the cluster', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`are dropped and counted over ${transport}, and the node keeps serving`, async () => {
      const key = new Uint8Array(32).fill(9);
      const cluster = await startCluster<ProbeOp, ProbeResult>(probeSpec, { transport, key, clusterId: 5, syncMode: 'none' });
      try {
        const target = cluster.address(0)!;
        const good = new FrameCodec({ clusterId: 5, key });
        const foreign = new FrameCodec({ clusterId: 6, key });
        const forger = new FrameCodec({ clusterId: 5, key: new Uint8Array(32).fill(8) });
        const req = new Writer();
        new ClusterLayout(probeSpec, {}).clients!.request.encode(req, { id: 0, op: { f: 'read' } });
        const payload = req.toBytes();
        // Fresh sequence numbers: the socket transports drop replays (replayGuard.ts).
        let last = 0;
        const seq = (): number => (last = Math.max(last + 1, Date.now() * 1024));
        const oversized = Buffer.from(good.encode({ kind: 1, from: 2, to: 0, seq: seq() }, payload));
        oversized.writeUInt32BE(0x7fff_ffff, 24);
        const frames = [
          forger.encode({ kind: 1, from: 2, to: 0, seq: seq() }, payload), // bad tag
          foreign.encode({ kind: 1, from: 2, to: 0, seq: seq() }, payload), // wrong cluster
          good.encode({ kind: 1, from: 2, to: 0, seq: seq() }, payload).subarray(0, 40), // truncated
          Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)), // random bytes (first byte: not a version)
          good.encode({ kind: 1, from: 2, to: 0, seq: seq() }, Uint8Array.of(0, 9)), // authentic, undecodable request
          good.encode({ kind: 7, from: 2, to: 0, seq: seq() }, payload), // authentic, unknown channel
          good.encode({ kind: 0, from: 2, to: 0, seq: seq() }, Uint8Array.of(0, 1)), // authentic, a protocol message from a client
          oversized, // length beyond the limit (last: over tcp it ends the connection)
        ];
        if (transport === 'udp') {
          const sock = createSocket('udp4');
          for (const f of frames) await new Promise<void>((r) => sock.send(f, target.port, target.host, () => r()));
          sock.close();
        } else {
          for (const f of frames) {
            // One connection per frame, each opening with its hello: a lost framing closes only that connection.
            const s = connect(target.port, target.host);
            await new Promise<void>((r) => s.once('connect', () => r()));
            s.write(encodeHello(good, 2, 0, seq()));
            await new Promise<void>((r) => s.end(f, () => r()));
            await new Promise<void>((r) => s.once('close', () => r()));
          }
        }
        await cluster.waitUntil(() => {
          const d = cluster.transportStats(0)!.dropped;
          const n = cluster.node(0).stats.dropped;
          return d['bad-tag'] + d['wrong-cluster'] + d.truncated + d.oversized + d['bad-version'] === 5 && n.undecodable + n['bad-channel'] + n['bad-sender'] === 3;
        });
        const dropped = cluster.transportStats(0)!.dropped;
        expect(dropped).toMatchObject({ 'bad-tag': 1, 'wrong-cluster': 1, truncated: 1, 'bad-version': 1, oversized: 1 });
        expect(cluster.node(0).stats.dropped).toMatchObject({ undecodable: 1, 'bad-channel': 1, 'bad-sender': 1 });
        expect(cluster.node(0).status).toBe('running');
        // Still serving.
        expect(await cluster.client().invoke({ f: 'incr' }, { to: 0 })).toEqual({ kind: 'value', n: 1 });
      } finally {
        await cluster.close();
      }
    });
  }
});
