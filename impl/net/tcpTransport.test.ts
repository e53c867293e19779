import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tcpTransport, type TcpTransportOptions } from './tcpTransport.ts';
import { FrameCodec, FRAME_HEADER_BYTES, type Frame } from './frame.ts';
import type { NetTransport } from './peers.ts';
import { eventually } from './testing.ts';

const key = Buffer.alloc(32, 11);
const clusterId = 5;
const open: NetTransport[] = [];
const tlsMaterial = (() => {
  const dir = new URL('./testdata/', import.meta.url);
  const cert = readFileSync(new URL('node.crt', dir));
  return { key: readFileSync(new URL('node.key', dir)), cert, ca: cert };
})();

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

describe('tcpTransport', () => {
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
    const h = { kind: 1, from: 1, to: 2, seq: 0 };
    const valid = good.encode(h, Buffer.from('valid'));
    // Bad tag and wrong cluster keep the connection: the frame after them is delivered.
    const forged = new FrameCodec({ clusterId, key: Buffer.alloc(32, 12) }).encode(h, Buffer.from('forged'));
    const foreign = new FrameCodec({ clusterId: 6, key }).encode(h, Buffer.from('foreign'));
    const kept = await rawSession(port, [forged, foreign.subarray(0, 10), foreign.subarray(10), valid]);
    expect(kept.closedByServer).toBe(false);
    // Lost framing closes the connection.
    const oversized = good.encode(h, Buffer.from('x'));
    oversized.writeUInt32BE(0xffff_ff00, 24);
    expect((await rawSession(port, [oversized, valid])).closedByServer).toBe(true);
    expect((await rawSession(port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'x'.repeat(20)), valid])).closedByServer).toBe(true);
    const reserved = Buffer.from(valid);
    reserved[3] = 1;
    expect((await rawSession(port, [reserved])).closedByServer).toBe(true);
    // A connection that ends inside a frame.
    await rawSession(port, [valid.subarray(0, FRAME_HEADER_BYTES + 2)]);
    await rawSession(port, [good.encode({ ...h, to: 9 }, Buffer.from('misrouted'))]);
    await eventually('all garbage counted', () => Object.values(b.t.stats.dropped).reduce((s, n) => s + n, 0) === 7);
    expect(b.t.stats.dropped).toMatchObject({ 'bad-tag': 1, 'wrong-cluster': 1, oversized: 1, 'bad-version': 1, malformed: 1, truncated: 1, misrouted: 1 });
    expect(b.got.map((f) => f.payload.toString())).toEqual(['valid']);
    a.t.send(2, 1, Buffer.from('still serving'));
    await eventually('a good frame', () => b.got.length === 2);
  });

  it('closes a connection stuck inside a frame, and keeps one idle between frames', async () => {
    const { t, got } = await node(2, { partialFrameTimeoutMs: 50 });
    const good = new FrameCodec({ clusterId, key });
    const frame = good.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(100, 1));
    const idle = await rawSession(t.address.port, [frame], 150);
    expect(idle.closedByServer).toBe(false);
    const stuck = await rawSession(t.address.port, [frame.subarray(0, 60)], 1000);
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
    await rawSession(b.t.address.port, [new FrameCodec({ clusterId, key }).encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.from('plain'))]);
    await eventually('handshake error reported', () => errors.length > 0);
    a.t.send(2, 3, Buffer.from('still serving'));
    await eventually('after plaintext', () => b.got.length === 2);
  });
});
