import { describe, it, expect, afterEach } from 'vitest';
import { createSocket } from 'node:dgram';
import { udpTransport } from './udpTransport.ts';
import { FrameCodec, FRAME_HEADER_BYTES, type Frame } from './frame.ts';
import type { NetTransport } from './peers.ts';
import { eventually } from './testing.ts';

const key = Buffer.alloc(32, 5);
const clusterId = 77;
const open: NetTransport[] = [];

async function pair(batchBytesMax?: number) {
  const opts = batchBytesMax === undefined ? {} : { batchBytesMax };
  const a = await udpTransport({ self: 1, clusterId, key, ...opts });
  const b = await udpTransport({ self: 2, clusterId, key, ...opts });
  open.push(a, b);
  a.setPeer(2, b.address);
  b.setPeer(1, a.address);
  const got: Frame[] = [];
  b.onFrame((f) => got.push(f));
  return { a, b, got };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('udpTransport', { timeout: 180_000 }, () => {
  it('batches the small frames of one turn into one datagram, in order', async () => {
    const { a, b, got } = await pair();
    for (let i = 0; i < 20; i++) a.send(2, 4, Buffer.from(`frame ${i}`));
    await eventually('20 frames', () => got.length === 20);
    expect(got.map((f) => f.payload.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `frame ${i}`));
    // Sequence numbers strictly increase, from the sender's clock (replayGuard.ts).
    const seqs = got.map((f) => f.seq);
    expect(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!)).toBe(true);
    expect(seqs[0]!).toBeGreaterThanOrEqual((Date.now() - 60_000) * 1024);
    expect(a.stats.framesSent).toBe(20);
    expect(a.stats.packetsSent).toBe(1);
    expect(b.stats.framesReceived).toBe(20);
  });

  it('splits batches at the size limit, sends large frames alone, and can turn batching off', async () => {
    const { a, got } = await pair();
    for (let i = 0; i < 30; i++) a.send(2, 0, Buffer.alloc(100, i)); // 144-byte frames, 10 per 1472
    a.send(2, 0, Buffer.alloc(5000, 1));
    await eventually('31 frames', () => got.length === 31);
    expect(a.stats.packetsSent).toBe(4);
    expect(got[30]!.payload.length).toBe(5000);
    const unbatched = await pair(0);
    for (let i = 0; i < 5; i++) unbatched.a.send(2, 0, Buffer.from([i]));
    await eventually('5 frames', () => unbatched.got.length === 5);
    expect(unbatched.a.stats.packetsSent).toBe(5);
  });

  it('drops and counts garbage from a raw socket and keeps serving', async () => {
    const { a, b, got } = await pair();
    const raw = createSocket('udp4');
    const sendRaw = (bytes: Buffer) => new Promise<void>((resolve) => raw.send(bytes, b.address.port, '127.0.0.1', () => resolve()));
    const good = new FrameCodec({ clusterId, key });
    const header = { kind: 1, from: 1, to: 2, seq: Date.now() * 1024 };
    const oversized = good.encode(header, Buffer.from('x'));
    oversized.writeUInt32BE(0x7fff_ffff, 24);
    const badVersion = good.encode(header, Buffer.from('x'));
    badVersion[0] = 9;
    const reserved = good.encode(header, Buffer.from('x'));
    reserved[2] = 1;
    try {
      await sendRaw(new FrameCodec({ clusterId, key: Buffer.alloc(32, 6) }).encode(header, Buffer.from('forged')));
      await sendRaw(new FrameCodec({ clusterId: 78, key }).encode(header, Buffer.from('other cluster')));
      await sendRaw(good.encode(header, Buffer.from('cut short')).subarray(0, FRAME_HEADER_BYTES + 3));
      await sendRaw(oversized);
      await sendRaw(badVersion);
      await sendRaw(reserved);
      await sendRaw(good.encode({ ...header, to: 3 }, Buffer.from('misrouted')));
      await sendRaw(Buffer.from([0x00, 0xff, 0x13])); // shorter than a header: truncated
      await sendRaw(Buffer.alloc(0));
    } finally {
      raw.close();
    }
    await eventually('all garbage counted', () => Object.values(b.stats.dropped).reduce((s, n) => s + n, 0) === 9);
    expect(b.stats.dropped).toMatchObject({ 'bad-tag': 1, 'wrong-cluster': 1, truncated: 3, oversized: 1, 'bad-version': 1, malformed: 1, misrouted: 1 });
    expect(got).toEqual([]);
    a.send(2, 1, Buffer.from('still serving'));
    await eventually('a good frame', () => got.length === 1);
    expect(got[0]!.payload.toString()).toBe('still serving');
  });

  it('drops a replayed frame (counted) and a frame from before the receiver started; keeps fresh ones', async () => {
    const { b, got } = await pair();
    const raw = createSocket('udp4');
    const sendRaw = (bytes: Buffer) => new Promise<void>((resolve) => raw.send(bytes, b.address.port, '127.0.0.1', () => resolve()));
    const good = new FrameCodec({ clusterId, key });
    // Every frame but the old one is stamped after the receiver's start (a frame stamped before it is stale).
    await new Promise((r) => setTimeout(r, 5));
    const now = Date.now() * 1024;
    const captured = good.encode({ kind: 1, from: 1, to: 2, seq: now }, Buffer.from('once'));
    try {
      await sendRaw(captured);
      await sendRaw(captured); // replayed
      await sendRaw(good.encode({ kind: 1, from: 1, to: 2, seq: now - 5 }, Buffer.from('reordered, inside the window')));
      await sendRaw(captured); // again
      await sendRaw(good.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.from('from long before the receiver started')));
      await sendRaw(good.encode({ kind: 1, from: 1, to: 2, seq: now + 1 }, Buffer.from('fresh')));
    } finally {
      raw.close();
    }
    await eventually('all counted', () => got.length + b.stats.dropped.replayed + b.stats.dropped.stale === 6);
    expect(got.map((f) => f.payload.toString())).toEqual(['once', 'reordered, inside the window', 'fresh']);
    expect(b.stats.dropped.replayed).toBe(2);
    expect(b.stats.dropped.stale).toBe(1);
  });

  it('drops a frame stamped shortly before the receiver started (a replay across its restart) as stale', async () => {
    // Captured 10 s before the receiver (re)started: its previous incarnation may have taken it.
    const good = new FrameCodec({ clusterId, key });
    const captured = good.encode({ kind: 1, from: 1, to: 2, seq: (Date.now() - 10_000) * 1024 }, Buffer.from('captured'));
    const { b, got } = await pair();
    const raw = createSocket('udp4');
    try {
      await new Promise<void>((resolve) => raw.send(captured, b.address.port, '127.0.0.1', () => resolve()));
    } finally {
      raw.close();
    }
    await eventually('counted', () => b.stats.dropped.stale === 1);
    expect(got).toEqual([]);
  });

  it('a sender whose clock lags a restarted peer is told its clock and gets through after one stale frame', async () => {
    const a = await udpTransport({ self: 1, clusterId, key, nowMs: () => Date.now() - 30_000 });
    const b = await udpTransport({ self: 2, clusterId, key });
    open.push(a, b);
    a.setPeer(2, b.address);
    b.setPeer(1, a.address);
    const got: Frame[] = [];
    b.onFrame((f) => got.push(f));
    const fromB: Frame[] = [];
    a.onFrame((f) => fromB.push(f));
    a.send(2, 1, Buffer.from('lagging'));
    await eventually('stale, answered', () => b.stats.dropped.stale === 1 && b.stats.framesSent === 1);
    await eventually('a read the answer', () => a.stats.dropped.stale + a.stats.dropped.replayed === 0 && a.stats.framesSent === 1);
    await new Promise((r) => setTimeout(r, 50));
    a.send(2, 1, Buffer.from('caught up'));
    await eventually('delivered', () => got.length === 1);
    expect(got[0]!.payload.toString()).toBe('caught up');
    expect(fromB).toEqual([]); // the clock reading is not handed to the runtime
  });

  it('sends to itself, and rejects unknown peers, bad options and use after close', async () => {
    const t = await udpTransport({ self: 5, clusterId, key });
    open.push(t);
    const got: Frame[] = [];
    t.onFrame((f) => got.push(f));
    t.send(5, 2, Buffer.from('me'));
    await eventually('self-send', () => got.length === 1);
    expect(() => t.send(6, 0, Buffer.alloc(1))).toThrowError(expect.objectContaining({ code: 'udpTransport.send/unknown-peer' }));
    expect(t.payloadBytesMax).toBe(65_507 - 44);
    expect(() => t.send(5, 0, Buffer.alloc(70_000))).toThrowError(expect.objectContaining({ code: 'FrameCodec.encode/oversized' }));
    await expect(udpTransport({ self: 1, clusterId, key, frameBytesMax: 70_000 })).rejects.toMatchObject({ code: 'udpTransport/bad-frame-bytes-max' });
    await t.close();
    await t.close();
    expect(() => t.send(5, 0, Buffer.alloc(1))).toThrowError(expect.objectContaining({ code: 'udpTransport.send/closed' }));
  });
});
