/**
 * parallel-commits-tla: its counts equal TLC's on cockroach's ParallelCommits.tla (small
 * configurations here; the cfg's 8,216,557 states in bench/parallel-commits-tla.ts), its
 * liveness verdicts, the packed state's JSON form, and the broken variants caught.
 */
import { describe, expect, it } from 'vitest';
import { checkSync } from '../../checker/index.ts';
import { Reader, Writer } from '../core/index.ts';
import spec, { describe as describeState, type State } from './parallel-commits-tla.ts';

describe('parallel-commits-tla matches TLC on ParallelCommits.tla', () => {
  // TLC 2.19 on the module (its PlusCal translation), safety invariants: distinct states, depth.
  const tlc: [keys: number, preventers: number, maxAttempts: number, distinct: number, depth: number][] = [
    [1, 1, 1, 444, 22],
    [1, 2, 2, 20_274, 41],
  ];
  for (const [keys, preventers, maxAttempts, distinct, depth] of tlc) {
    it(`KEYS ${keys}, PREVENTERS ${preventers}, MAX_ATTEMPTS ${maxAttempts}: ${distinct} states, depth ${depth}`, () => {
      const r = checkSync(spec, { params: { keys, preventers, maxAttempts }, liveness: false });
      expect(r.result).toBe('ok');
      expect([r.stats.distinctStates, r.stats.depth]).toEqual([distinct, depth]);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }

  it('one key, one preventer, 3 attempts: TLC 2,883 states, depth 43 (here 44: the extra initial edge)', () => {
    const r = checkSync(spec, { params: { keys: 1, preventers: 1, maxAttempts: 3 }, liveness: false });
    expect([r.result, r.stats.distinctStates, r.stats.depth]).toEqual(['ok', 2_883, 44]);
  });

  it("the cfg's liveness properties hold (as TLC says on the same configuration)", () => {
    const r = checkSync(spec, { params: { keys: 1, preventers: 1, maxAttempts: 2 } });
    expect(r.result).toBe('ok');
    expect(r.liveness?.map((l) => [l.name, l.checked])).toEqual([
      ['RecordFinalized: the record ends committed or aborted', true],
      ['every intent is eventually resolved', true],
      ['ImplicitCommitLeadsToExplicitCommit', true],
      ['AckLeadsToExplicitCommit', true],
    ]);
  });
});

describe('the packed state', () => {
  it('reads as the module variables and parses back to the same words', () => {
    const params = { keys: 2, preventers: 2, maxAttempts: 3 };
    const model = spec.roles.model!;
    const s0 = model.init({ params } as never) as State;
    const json = describeState(s0);
    expect(json.committer.pc).toBe('BeginTxnEpoch');
    expect(json.preventers.p2!.to_resolve).toEqual(['k1', 'k2']);
    expect(model.state.fromJSON(JSON.parse(JSON.stringify(model.state.toJSON(s0))), 'state')).toEqual(s0);
    const w = new Writer();
    model.state.encode(w, s0);
    expect(model.state.decode(new Reader(w.buf.slice(0, w.pos)))).toEqual(s0);
  });

  it('rejects a malformed JSON state with the path of the fault', () => {
    const model = spec.roles.model!;
    const json = model.state.toJSON(model.init({ params: { keys: 1, preventers: 1, maxAttempts: 1 } } as never)) as Record<string, Record<string, unknown>>;
    json.committer!.pc = 'Nowhere';
    expect(() => model.state.fromJSON(json, 'model')).toThrow(/model\.committer\.pc: expected one of BeginTxnEpoch/);
  });
});

describe('parallel-commits-tla broken variants', () => {
  it('recovery-no-prevent: the implicitly committed transaction is aborted', () => {
    const r = checkSync(spec.variant('recovery-no-prevent'), { params: { keys: 2, preventers: 1, maxAttempts: 1 }, liveness: false });
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.property.name).toMatch(/^temporal properties/);
  });

  it('recovery-ignores-restage: the restaged, implicitly committed transaction is aborted', () => {
    const r = checkSync(spec.variant('recovery-ignores-restage'), { params: { keys: 2, preventers: 1, maxAttempts: 2 }, liveness: false });
    expect(r.result).toBe('violation');
    if (r.result === 'violation') expect(r.property.name).toMatch(/^temporal properties/);
  });
});
