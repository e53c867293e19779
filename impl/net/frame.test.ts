import { describe, it, expect, vi, afterEach } from 'vitest';
import fc from 'fast-check';
import { FrameCodec, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, type FrameHeader } from './frame.ts';
import { FrameError, FRAME_ERROR_CODES } from './frameError.ts';
import { FrameStreamDecoder, type FrameResult } from './frameStreamDecoder.ts';
import { decodeDatagram } from './datagram.ts';
import { UsageError } from './usageError.ts';

const key = Buffer.alloc(32, 7);
const frameBytesMax = 4096;
const codec = new FrameCodec({ clusterId: 42, key, frameBytesMax });

const headerArb: fc.Arbitrary<FrameHeader> = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  from: fc.integer({ min: 0, max: 0xffff_ffff }),
  to: fc.integer({ min: 0, max: 0xffff_ffff }),
  seq: fc.maxSafeNat(),
});
const payloadArb = fc.uint8Array({ maxLength: 300 });
const framesArb = fc.array(fc.tuple(headerArb, payloadArb), { minLength: 1, maxLength: 8 });

function plain(f: FrameResult): unknown {
  if (f instanceof FrameError) return { error: f.code };
  return { kind: f.kind, from: f.from, to: f.to, seq: f.seq, clusterId: f.clusterId, payload: [...f.payload] };
}

function expected(h: FrameHeader, p: Uint8Array): unknown {
  return { ...h, clusterId: 42, payload: [...p] };
}

/** Splits `bytes` at the given cut points (taken modulo its length). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

function feed(decoder: FrameStreamDecoder, chunks: Buffer[]): FrameResult[] {
  return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
}

/** Runs `fn` and checks that it throws nothing, or only FrameErrors. */
function onlyFrameErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FrameError);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FrameCodec', () => {
  it('round-trips every header and payload', () => {
    fc.assert(
      fc.property(headerArb, payloadArb, (h, p) => {
        const bytes = codec.encode(h, p);
        expect(bytes.length).toBe(FRAME_OVERHEAD_BYTES + p.length);
        expect(plain(codec.decode(bytes))).toEqual(expected(h, p));
      }),
    );
  });

  it('rejects every single-bit flip of a frame', () => {
    const bytes = codec.encode({ kind: 3, from: 1, to: 2, seq: 99 }, Buffer.from('hello, cluster'));
    const seen = new Set<string>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      let error: unknown;
      try {
        codec.decode(flipped);
      } catch (e) {
        error = e;
      }
      expect(error, `bit ${bit}`).toBeInstanceOf(FrameError);
      seen.add((error as FrameError).code);
    }
    // Flips reach every check: version, reserved bits, seq range, cluster id, length, tag.
    expect([...seen].sort()).toEqual(['bad-tag', 'bad-version', 'malformed', 'oversized', 'truncated', 'wrong-cluster']);
  });

  it('rejects every truncation as truncated', () => {
    const bytes = codec.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(40, 1));
    for (let n = 0; n < bytes.length; n++) {
      expect(() => codec.decode(bytes.subarray(0, n))).toThrowError(expect.objectContaining({ code: 'truncated' }));
    }
  });

  it('tells a wrong key (bad-tag) from another cluster (wrong-cluster)', () => {
    const frame = { kind: 0, from: 1, to: 2, seq: 1 };
    const otherKey = new FrameCodec({ clusterId: 42, key: Buffer.alloc(32, 8), frameBytesMax });
    const otherCluster = new FrameCodec({ clusterId: 43, key, frameBytesMax });
    expect(() => codec.decode(otherKey.encode(frame, Buffer.from('x')))).toThrowError(expect.objectContaining({ code: 'bad-tag' }));
    expect(() => codec.decode(otherCluster.encode(frame, Buffer.from('x')))).toThrowError(
      expect.objectContaining({ code: 'wrong-cluster' }),
    );
  });

  it('throws coded UsageErrors on misuse', () => {
    expect(() => new FrameCodec({ clusterId: 1, key: Buffer.alloc(8) })).toThrowError(expect.objectContaining({ code: 'FrameCodec/short-key' }));
    expect(() => new FrameCodec({ clusterId: -1, key })).toThrowError(UsageError);
    expect(() => codec.encode({ kind: 256, from: 1, to: 2, seq: 0 }, Buffer.alloc(0))).toThrowError(
      expect.objectContaining({ code: 'FrameCodec.encode/bad-kind' }),
    );
    expect(() => codec.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(frameBytesMax))).toThrowError(
      expect.objectContaining({ code: 'FrameCodec.encode/oversized' }),
    );
  });

  it('lists every error code', () => {
    expect(FRAME_ERROR_CODES).toHaveLength(6);
  });
});

describe('FrameStreamDecoder', () => {
  it('decodes valid frames in any chunking', () => {
    fc.assert(
      fc.property(framesArb, fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map(([h, p]) => codec.encode(h, p)));
        const out = feed(new FrameStreamDecoder(codec), chunk(stream, cuts));
        expect(out.map(plain)).toEqual(frames.map(([h, p]) => expected(h, p)));
      }),
    );
  });

  it('drops frames with a bad tag or wrong cluster and keeps decoding the stream', () => {
    const forged = new FrameCodec({ clusterId: 42, key: Buffer.alloc(32, 9) });
    const foreign = new FrameCodec({ clusterId: 7, key });
    const h = { kind: 1, from: 1, to: 2, seq: 5 };
    const stream = Buffer.concat([
      codec.encode(h, Buffer.from('a')),
      forged.encode(h, Buffer.from('b')),
      foreign.encode(h, Buffer.from('c')),
      codec.encode(h, Buffer.from('d')),
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        const out = feed(new FrameStreamDecoder(codec), chunk(stream, cuts)).map(plain);
        expect(out).toEqual([expected(h, Buffer.from('a')), { error: 'bad-tag' }, { error: 'wrong-cluster' }, expected(h, Buffer.from('d'))]);
      }),
    );
  });

  it('reports a stream cut inside a frame as truncated', () => {
    const bytes = codec.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(50, 3));
    for (let n = 1; n < bytes.length; n++) {
      const out = feed(new FrameStreamDecoder(codec), [bytes.subarray(0, n)]);
      expect(out.map(plain)).toEqual([{ error: 'truncated' }]);
    }
  });

  it('rejects an oversized declared length without allocating for it', () => {
    const header = codec.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(0)).subarray(0, FRAME_HEADER_BYTES);
    header.writeUInt32BE(0xffff_fff0, 24);
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    const decoder = new FrameStreamDecoder(codec);
    const out = [...decoder.push(header.subarray(0, 10)), ...decoder.push(header.subarray(10)), ...decoder.push(Buffer.alloc(100))];
    expect(out.map(plain)).toEqual([{ error: 'oversized' }]);
    expect(decoder.failed).toBe(true);
    expect(spy).not.toHaveBeenCalled();
  });

  it('grows the buffer of a trickled frame with the bytes that arrive, not its declared length', () => {
    const big = new FrameCodec({ clusterId: 42, key });
    const frame = big.encode({ kind: 1, from: 1, to: 2, seq: 0 }, Buffer.alloc(500_000, 7));
    const decoder = new FrameStreamDecoder(big);
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    expect(decoder.push(frame.subarray(0, 1000))).toEqual([]);
    expect(Math.max(...spy.mock.calls.map(([size]) => size))).toBeLessThanOrEqual(16 * 1024);
    const out = [...decoder.push(frame.subarray(1000, 300_000)), ...decoder.push(frame.subarray(300_000))];
    expect(out).toHaveLength(1);
    expect((out[0] as { payload: Buffer }).payload.equals(Buffer.alloc(500_000, 7))).toBe(true);
    expect(Math.max(...spy.mock.calls.map(([size]) => size))).toBe(frame.length);
  });

  it('never throws, never buffers or allocates beyond the limit, on random bytes in random chunks', () => {
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 30 }), (chunks) => {
        const decoder = new FrameStreamDecoder(codec);
        for (const c of chunks) {
          for (const r of decoder.push(c)) expect(r instanceof FrameError || r.payload.length <= codec.payloadBytesMax).toBe(true);
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(frameBytesMax);
        }
        for (const r of decoder.end()) expect(r).toBeInstanceOf(FrameError);
      }),
      { numRuns: 300 },
    );
    for (const [size] of spy.mock.calls) expect(size).toBeLessThanOrEqual(frameBytesMax);
  });

  it('survives bit flips, truncations and oversized lengths in valid streams', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('length' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff_ffff }) }),
    );
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    fc.assert(
      fc.property(framesArb, fc.array(mutation, { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, mutations, cuts) => {
        let stream = Buffer.concat(frames.map(([h, p]) => codec.encode(h, p)));
        for (const m of mutations) {
          if (stream.length === 0) break;
          if (m.op === 'flip') stream[m.at % stream.length]! ^= 1 << m.bit;
          else if (m.op === 'cut') stream = stream.subarray(0, m.at % stream.length);
          else if (stream.length >= 4) stream.writeUInt32BE(m.value, m.at % (stream.length - 3));
        }
        spy.mockClear();
        const valid = new Set(frames.map(([h, p]) => JSON.stringify(expected(h, p))));
        for (const r of feed(new FrameStreamDecoder(codec), chunk(stream, cuts))) {
          // Anything accepted is one of the frames that was sent: tampering is never accepted.
          if (!(r instanceof FrameError)) expect(valid.has(JSON.stringify(plain(r)))).toBe(true);
        }
        for (const [size] of spy.mock.calls) expect(size).toBeLessThanOrEqual(frameBytesMax);
        onlyFrameErrors(() => codec.decode(stream));
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeDatagram', () => {
  it('decodes a batch of frames in one datagram', () => {
    fc.assert(
      fc.property(framesArb, (frames) => {
        const datagram = Buffer.concat(frames.map(([h, p]) => codec.encode(h, p)));
        expect(decodeDatagram(codec, datagram).map(plain)).toEqual(frames.map(([h, p]) => expected(h, p)));
      }),
    );
  });

  it('keeps the frames before a damaged one, and skips a forged one', () => {
    const h = { kind: 2, from: 3, to: 4, seq: 1 };
    const forged = new FrameCodec({ clusterId: 42, key: Buffer.alloc(32, 1) }).encode(h, Buffer.from('f'));
    const good = codec.encode(h, Buffer.from('g'));
    const out = decodeDatagram(codec, Buffer.concat([good, forged, good, good.subarray(0, 30)])).map(plain);
    expect(out).toEqual([expected(h, Buffer.from('g')), { error: 'bad-tag' }, expected(h, Buffer.from('g')), { error: 'truncated' }]);
    expect(decodeDatagram(codec, Buffer.alloc(0)).map(plain)).toEqual([{ error: 'truncated' }]);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        for (const r of decodeDatagram(codec, bytes)) expect(r).toBeInstanceOf(FrameError);
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts a frame with a random mutation', () => {
    fc.assert(
      fc.property(headerArb, payloadArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (h, p, at, xor) => {
        const bytes = codec.encode(h, p);
        bytes[at % bytes.length]! ^= xor;
        const out = decodeDatagram(codec, bytes);
        expect(out.every((r) => r instanceof FrameError)).toBe(true);
      }),
    );
  });
});

