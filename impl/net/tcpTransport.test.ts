import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { encodeHello, tcpTransport, HELLO_BYTES_MAX, type TcpTransportOptions } from './tcpTransport.ts';
import { FrameCodec, FRAME_HEADER_BYTES, type Frame } from './frame.ts';
import type { NetTransport } from './peers.ts';
import { eventually } from './testing.ts';

const key = Buffer.alloc(32, 11);
const clusterId = 5;
const open: NetTransport[] = [];
const testdata = (name: string): Buffer => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const tlsMaterial = (() => {
  const cert = testdata('node.crt');
  return { key: testdata('node.key'), cert, ca: cert };
})();
const member = { key: testdata('member.key'), cert: testdata('member.crt'), ca: testdata('cluster-ca.crt') };
const stranger = { key: testdata('stranger.key'), cert: testdata('stranger.crt'), ca: testdata('stranger-ca.crt') };

const codec = new FrameCodec({ clusterId, key });
/** A fresh sequence number (the transports' clock-based ones; see replayGuard.ts). */
let lastSeq = 0;
const freshSeq = (): number => (lastSeq = Math.max(lastSeq + 1, Date.now() * 1024));
/** The hello a raw connection from node `from` to node `to` opens with. */
const hello = (from = 1, to = 2): Buffer => encodeHello(codec, from, to, freshSeq());

async function node(self: number, extra: Partial<TcpTransportOptions> = {}) {
  const t = await tcpTransport({ self, clusterId, key, reconnectDelayMsMin: 5, reconnectDelayMsMax: 20, ...extra });
  open.push(t);
  const got: Frame[] = [];
  t.onFrame((f) => got.push(f));
  return { t, got };
}

async function pair(extra: Partial<TcpTransportOptions> = {}) {
  const a = await node(1, extra);
  const b = await node(2, extra);
  a.t.setPeer(2, b.t.address);
  b.t.setPeer(1, a.t.address);
  return { a, b };
}

/** Opens a raw connection to `port`, writes each chunk, and waits until the server closes it or `ms` pass. */
async function rawSession(port: number, chunks: Buffer[], ms = 50): Promise<{ closedByServer: boolean }> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let closedByServer = false;
  let clientEnded = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  // The server answers our end with its own; only an end before ours means it closed on us.
  socket.once('end', () => (closedByServer = !clientEnded));
  for (const c of chunks) socket.write(c);
  await Promise.race([closed, new Promise((r) => setTimeout(r, ms))]);
  clientEnded = true;
  socket.end();
  await closed;
  return { closedByServer };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('tcpTransport', { timeout: 180_000 }, () => {
  it('reads nothing from a connection before its hello checks out: garbage, a bad or replayed hello, or silence close it', async () => {
    const { t, got } = await node(2, { helloTimeoutMs: 100 });
    const port = t.address.port;
    const h = { kind: 1, from: 1, to: 2, seq: freshSeq() };
    // A good frame, but not a hello: closed before its tag is even checked.
    expect((await rawSession(port, [codec.encode(h, Buffer.from('no hello first'))], 2000)).closedByServer).toBe(true);
    // A declared 1 MiB frame: closed after its 28-byte header, nothing buffered for it.
    const huge = codec.encode({ ...h, kind: 0xfe }, Buffer.alloc(1));
    huge.writeUInt32BE(1 << 20, 24);
    expect((await rawSession(port, [huge.subarray(0, 28)], 2000)).closedByServer).toBe(true);
    // A hello under another key, and a replayed hello.
    expect((await rawSession(port, [encodeHello(new FrameCodec({ clusterId, key: Buffer.alloc(32, 12) }), 1, 2, freshSeq())], 2000)).closedByServer).toBe(true);
    const captured = hello();
    expect((await rawSession(port, [captured, codec.encode({ ...h, seq: freshSeq() }, Buffer.from('after hello'))], 150)).closedByServer).toBe(false);
    expect((await rawSession(port, [captured], 2000)).closedByServer).toBe(true);
    // Silence: closed after helloTimeoutMs.
    expect((await rawSession(port, [], 1000)).closedByServer).toBe(true);
    await eventually('counted', () => t.stats.dropped['no-hello'] === 5);
    expect(t.stats.dropped.replayed).toBe(1);
    expect(got.map((f) => f.payload.toString())).toEqual(['after hello']);
    expect(HELLO_BYTES_MAX).toBeLessThan(100);
  });

  it('refuses a hello stamped shortly before it started (a replay across its restart) as stale', async () => {
    const captured = encodeHello(codec, 1, 2, (Date.now() - 10_000) * 1024);
    const { t, got } = await node(2, { helloTimeoutMs: 100 });
    expect((await rawSession(t.address.port, [captured, codec.encode({ kind: 1, from: 1, to: 2, seq: freshSeq() }, Buffer.from('after'))], 2000)).closedByServer).toBe(true);
    expect(t.stats.dropped.stale).toBe(1);
    expect(got).toEqual([]);
  });

  it('a sender whose clock lags a restarted peer is told its clock and gets through on its next connection', async () => {
    const a = await node(1, { nowMs: () => Date.now() - 30_000 });
    const b = await node(2);
    a.t.setPeer(2, b.t.address);
    b.t.setPeer(1, a.t.address);
    a.t.send(2, 1, Buffer.from('lagging'));
    await eventually('stale hello, answered', () => b.t.stats.dropped.stale === 1 && b.t.stats.framesSent === 1);
    await eventually('a read the answer', () => a.t.stats.dropped.stale + a.t.stats.dropped['no-hello'] === 0 && a.t.stats.framesReceived === 0 && b.t.stats.dropped['no-hello'] === 1);
    await new Promise((r) => setTimeout(r, 100));
    a.t.send(2, 1, Buffer.from('caught up'));
    await eventually('delivered', () => b.got.length === 1);
    expect(b.got[0]!.payload.toString()).toBe('caught up');
    expect(a.got).toEqual([]); // the clock reading is not handed to the runtime
  });

  it('keeps serving its peers while 500 idle strangers connect', async () => {
    // Strangers are evicted, not timed out: they stay as long as they like.
    const { a, b } = await pair({ pendingConnectionsMax: 64, helloTimeoutMs: 60_000 });
    a.t.send(2, 1, Buffer.from('before'));
    await eventually('before', () => b.got.length === 1);
    const strangers: Socket[] = [];
    try {
      for (let i = 0; i < 500; i++) {
        const s = connect({ host: '127.0.0.1', port: b.t.address.port });
        s.on('error', () => {});
        strangers.push(s);
      }
      // The node took strangers in as fast as the kernel handed them over, and evicted all but the
      // last 64 (connections the kernel could not queue never reach it).
      await eventually('strangers taken in', () => strangers.every((s) => !s.connecting) && b.t.stats.dropped['no-hello'] >= 500 - 64, 60_000);
      // The established peer connection is still served, and a new one gets in (evicting a stranger).
      for (let i = 0; i < 20; i++) a.t.send(2, 1, Buffer.from(`during ${i}`));
      b.t.send(1, 1, Buffer.from('to a'));
      await eventually('peer traffic during', () => b.got.length === 21 && a.got.length === 1, 60_000);
    } finally {
      for (const s of strangers) s.destroy();
    }
  }, 180_000);

  it('over mutual TLS with a cluster CA: carries frames; refuses a plaintext peer and a peer of another CA', async () => {
    const errors: Error[] = [];
    const { a, b } = await pair({ tls: member, onError: (e) => errors.push(e) });
    a.t.send(2, 3, Buffer.from('over tls'));
    await eventually('tls frame', () => b.got.length === 1);
    // A plaintext peer with the cluster key: refused at the handshake.
    const plain = await node(3, { peers: { 2: b.t.address } });
    plain.t.send(2, 3, Buffer.from('plaintext'));
    // A peer with the cluster key and a certificate of another CA: refused too.
    const foreign = await node(4, { tls: { ...stranger, ca: member.ca }, peers: { 2: b.t.address }, onError: () => {} });
    foreign.t.send(2, 3, Buffer.from('wrong CA'));
    await eventually('both refused', () => b.t.stats.dropped['no-hello'] >= 2, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.got.map((f) => f.payload.toString())).toEqual(['over tls']);
    a.t.send(2, 3, Buffer.from('still serving'));
    await eventually('after strangers', () => b.got.length === 2);
  });

  it('carries frames both ways, in order, coalescing writes', async () => {
    const { a, b } = await pair();
    for (let i = 0; i < 500; i++) a.t.send(2, 1, Buffer.from(`a${i}`));
    for (let i = 0; i < 100; i++) b.t.send(1, 2, Buffer.alloc(3000, i));
    await eventually('all frames', () => b.got.length === 500 && a.got.length === 100);
    expect(b.got.map((f) => f.payload.toString())).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
    expect(a.got.every((f, i) => f.payload.length === 3000 && f.payload[0] === i && f.kind === 2 && f.from === 2)).toBe(true);
    expect(a.t.stats.packetsSent).toBeLessThan(500);
  });

  it('drops and counts garbage from raw connections and keeps serving', async () => {
    const { a, b } = await pair();
    const port = b.t.address.port;
    const good = new FrameCodec({ clusterId, key });
    const h = { kind: 1, from: 1, to: 2, seq: freshSeq() };
    const valid = good.encode(h, Buffer.from('valid'));
    // Bad tag and wrong cluster keep the connection: the frame after them is delivered.
    const forged = new FrameCodec({ clusterId, key: Buffer.alloc(32, 12) }).encode(h, Buffer.from('forged'));
    const foreign = new FrameCodec({ clusterId: 6, key }).encode(h, Buffer.from('foreign'));
    // Each session authenticates first (a hello); what follows is then decoded.
    const kept = await rawSession(port, [hello(), forged, foreign.subarray(0, 10), foreign.subarray(10), valid]);
    expect(kept.closedByServer).toBe(false);
    // Lost framing closes the connection.
    const oversized = good.encode({ ...h, seq: freshSeq() }, Buffer.from('x'));
    oversized.writeUInt32BE(0xffff_ff00, 24);
    expect((await rawSession(port, [hello(), oversized, valid])).closedByServer).toBe(true);
    expect((await rawSession(port, [hello(), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'x'.repeat(20)), valid])).closedByServer).toBe(true);
    const reserved = good.encode({ ...h, seq: freshSeq() }, Buffer.from('valid'));
    reserved[3] = 1;
    expect((await rawSession(port, [hello(), reserved])).closedByServer).toBe(true);
    // A connection that ends inside a frame.
    await rawSession(port, [hello(), valid.subarray(0, FRAME_HEADER_BYTES + 2)]);
    await rawSession(port, [hello(), good.encode({ ...h, to: 9, seq: freshSeq() }, Buffer.from('misrouted'))]);
    await eventually('all garbage counted', () => Object.values(b.t.stats.dropped).reduce((s, n) => s + n, 0) === 7);
    expect(b.t.stats.dropped).toMatchObject({ 'bad-tag': 1, 'wrong-cluster': 1, oversized: 1, 'bad-version': 1, malformed: 1, truncated: 1, misrouted: 1 });
    expect(b.got.map((f) => f.payload.toString())).toEqual(['valid']);
    a.t.send(2, 1, Buffer.from('still serving'));
    await eventually('a good frame', () => b.got.length === 2);
  });

  it('closes a connection stuck inside a frame, and keeps one idle between frames', async () => {
    const { t, got } = await node(2, { partialFrameTimeoutMs: 50 });
    const good = new FrameCodec({ clusterId, key });
    const frame = good.encode({ kind: 1, from: 1, to: 2, seq: freshSeq() }, Buffer.alloc(100, 1));
    const idle = await rawSession(t.address.port, [hello(), frame], 150);
    expect(idle.closedByServer).toBe(false);
    const stuck = await rawSession(t.address.port, [hello(), frame.subarray(0, 60)], 1000);
    expect(stuck.closedByServer).toBe(true);
    await eventually('truncated counted', () => t.stats.dropped.truncated === 1);
    expect(got).toHaveLength(1);
  });

  it('queues while a peer is down and reconnects when it comes back', async () => {
    const { a, b } = await pair();
    a.t.send(2, 0, Buffer.from('before'));
    await eventually('first frame', () => b.got.length === 1);
    const port = b.t.address.port;
    await b.t.close();
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) a.t.send(2, 0, Buffer.from(`while down ${i}`));
    await new Promise((r) => setTimeout(r, 30));
    const restarted = await node(2, { listen: { port } });
    await eventually('queued frames after restart', () => restarted.got.length >= 1, 3000);
    await eventually('all queued frames', () => restarted.got.some((f) => f.payload.toString() === 'while down 2'), 3000);
    const texts = restarted.got.map((f) => f.payload.toString());
    // Frames written to the dying connection may be lost; queued ones arrive in order.
    expect(texts).toEqual([...texts].sort());
  });

  it('drops frames beyond the queue limit while a peer is unreachable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const { t } = await node(1, { queueBytesMax: 4096, frameBytesMax: 2048, peers: { 2: { host: '127.0.0.1', port: closedPort } } });
    for (let i = 0; i < 10; i++) t.send(2, 0, Buffer.alloc(1000));
    expect(t.stats.dropped['queue-full']).toBe(7); // 1044-byte frames: 3 fit in 4096
    expect(() => t.send(3, 0, Buffer.alloc(1))).toThrowError(expect.objectContaining({ code: 'tcpTransport.send/unknown-peer' }));
  });

  it('runs over mutual TLS and survives a plaintext client', async () => {
    const errors: Error[] = [];
    const { a, b } = await pair({ tls: { ...tlsMaterial }, onError: (e) => errors.push(e) });
    a.t.send(2, 3, Buffer.from('over tls'));
    b.t.send(1, 3, Buffer.from('back'));
    await eventually('tls frames', () => b.got.length === 1 && a.got.length === 1);
    expect(b.got[0]!.payload.toString()).toBe('over tls');
    await rawSession(b.t.address.port, [hello(), new FrameCodec({ clusterId, key }).encode({ kind: 1, from: 1, to: 2, seq: freshSeq() }, Buffer.from('plain'))]);
    await eventually('handshake error reported', () => errors.length > 0);
    a.t.send(2, 3, Buffer.from('still serving'));
    await eventually('after plaintext', () => b.got.length === 2);
  });
});
