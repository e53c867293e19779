/**
 * The packed codec: round-trips, canonical bytes (equal values give equal bytes whatever the
 * order of sets and maps), and decoders that fail only with DecodeError on arbitrary bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, Reader, Writer, equalBytes } from './bytes.ts';
import { t, type Schema } from './schema.ts';

const Msg = t.union('kind', {
  vote: { term: t.u32, from: t.node('server'), granted: t.bool },
  append: { term: t.u32, entries: t.array(t.struct({ term: t.u32, value: t.string })), commit: t.option(t.int) },
  ping: {},
});

const State = t.struct({
  role: t.enum('follower', 'candidate', 'leader'),
  votes: t.set(t.node('server')),
  log: t.array(t.tuple(t.u32, t.string)),
  kv: t.map(t.string, t.int),
  leader: t.option(t.node('server')),
  inbox: t.set(Msg),
});

const node = fc.integer({ min: 0, max: 9 });
const msgArb = fc.oneof(
  fc.record({ kind: fc.constant('vote' as const), term: fc.nat(), from: node, granted: fc.boolean() }),
  fc.record({
    kind: fc.constant('append' as const),
    term: fc.nat({ max: 0xffffffff }),
    entries: fc.array(fc.record({ term: fc.nat(), value: fc.string() }), { maxLength: 3 }),
    commit: fc.option(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { nil: null }),
  }),
  fc.record({ kind: fc.constant('ping' as const) }),
);
const stateArb = fc.record({
  role: fc.constantFrom('follower' as const, 'candidate' as const, 'leader' as const),
  votes: fc.array(node, { maxLength: 6 }),
  log: fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 200 })), { maxLength: 4 }),
  kv: fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.integer({ min: -1000, max: 1000 })), { maxLength: 5 }).map((e) => new Map(e)),
  leader: fc.option(node, { nil: null }),
  inbox: fc.array(msgArb, { maxLength: 4 }),
});

function encode<T>(s: Schema<T>, v: T): Uint8Array {
  const w = new Writer(8);
  s.encode(w, v);
  return w.toBytes();
}

function decodeAll<T>(s: Schema<T>, bytes: Uint8Array): T {
  const r = new Reader(bytes);
  const v = s.decode(r);
  if (!r.done) throw new DecodeError('trailing bytes', r.pos);
  return v;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seed * (i + 7)) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('packed codec', () => {
  it('round-trips: decode(encode(v)) re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(stateArb, (v) => {
        const bytes = encode(State, v);
        const back = decodeAll(State, bytes);
        expect(equalBytes(encode(State, back), bytes)).toBe(true);
        expect(back.role).toBe(v.role);
        expect(back.leader).toBe(v.leader);
        expect(back.kv).toEqual(v.kv);
        expect(back.votes).toEqual([...new Set(v.votes)].sort((a, b) => a - b));
      }),
      { numRuns: 500 },
    );
  });

  it('is canonical: sets and maps in any order give equal bytes', () => {
    fc.assert(
      fc.property(stateArb, fc.nat(1000), (v, seed) => {
        const permuted = {
          ...v,
          votes: shuffled([...v.votes, ...v.votes.slice(0, 2)], seed),
          kv: new Map(shuffled([...v.kv.entries()], seed + 1)),
          inbox: shuffled([...v.inbox, ...v.inbox.slice(0, 1)], seed + 2),
        };
        expect(equalBytes(encode(State, permuted), encode(State, v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes arbitrary bytes without throwing anything but DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const s of [State, Msg, t.u32, t.string, t.set(t.u32), t.map(t.u32, t.string)] as Schema<unknown>[]) {
          try {
            decodeAll(s, bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects truncations and non-canonical encodings of valid values', () => {
    fc.assert(
      fc.property(stateArb, (v) => {
        const bytes = encode(State, v);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(() => decodeAll(State, bytes.subarray(0, cut))).toThrow(DecodeError);
        }
      }),
      { numRuns: 100 },
    );
    // A set written out of order, and a varint with a redundant continuation byte.
    expect(() => decodeAll(t.set(t.u32), Uint8Array.of(2, 5, 3))).toThrow(/canonical order/);
    expect(() => decodeAll(t.u32, Uint8Array.of(0x81, 0x00))).toThrow(/non-canonical/);
  });

  it('never trusts a length: a huge count fails fast instead of allocating', () => {
    expect(() => decodeAll(t.array(t.u32), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))).toThrow(/exceeds the remaining/);
  });

  it('rejects values that do not fit the schema with the path of the field', () => {
    expect(() => encode(State, { role: 'king' } as never)).toThrow(/expected one of follower, candidate, leader, got king at role/);
    expect(() => encode(Msg, { kind: 'vote', term: -1, from: 0, granted: true } as never)).toThrow(/expected u32, got -1 at term/);
    expect(() => encode(Msg, { kind: 'nope' } as never)).toThrow(/unknown kind 'nope'/);
    // Nested: the path is put together on the way out of the failure.
    const Deep = t.struct({ a: t.tuple(t.u32, t.struct({ b: t.map(t.string, t.struct({ c: t.bool })) })) });
    const bad = { a: [1, { b: new Map([['k', { c: 'no' }]]) }] };
    expect(() => encode(Deep, bad as never)).toThrow(/^expected bool, got no at a\[1\]\.b\.c$/);
  });

  it('round-trips through JSON (trace files) and rejects bad JSON with a path', () => {
    fc.assert(
      fc.property(stateArb, (v) => {
        const json = JSON.parse(JSON.stringify(State.toJSON(v)));
        expect(equalBytes(encode(State, State.fromJSON(json, '')), encode(State, v))).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(() => State.fromJSON({ role: 'leader', votes: ['x'] }, 'rm1')).toThrow(/rm1.votes\[0\]: expected a node id/);
  });

  it('rewrites node ids through a permutation (symmetry) and re-sorts sets', () => {
    const perm = [2, 1, 0];
    const v = { role: 'leader' as const, votes: [0, 1], log: [], kv: new Map(), leader: 0, inbox: [{ kind: 'vote' as const, term: 1, from: 2, granted: true }] };
    const m = State.mapNodes(v, perm);
    expect(m.votes).toEqual([1, 2]);
    expect(m.leader).toBe(2);
    expect(m.inbox[0]).toMatchObject({ from: 0 });
  });

  it('blinds node ids (many to one) independently of a map\'s order: the smallest value is kept', () => {
    const ByNode = t.map(t.node('server'), t.u32);
    const blind = [9, 9, 9];
    const bytes = (m: ReadonlyMap<number, number>) => {
      const w = new Writer(64);
      ByNode.encode(w, ByNode.mapNodes(m, blind));
      return w.toBytes();
    };
    const a = bytes(new Map([[0, 5], [1, 3], [2, 7]]));
    expect(a).toEqual(bytes(new Map([[2, 7], [1, 3], [0, 5]])));
    expect(a).toEqual(bytes(new Map([[0, 3], [1, 7], [2, 5]])));
    expect(ByNode.mapNodes(new Map([[0, 5], [1, 3], [2, 7]]), blind)).toEqual(new Map([[9, 3]]));
  });
});
