import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryCheckerError } from '../history/errors.ts';
import { makeHistory, type History, type OperationInit } from '../history/history.ts';
import type { KvInput, KvOutput, RegisterInput, RegisterOutput } from '../history/operations.ts';
import { checkLinearizabilityBruteForce } from './brute-force.ts';
import { checkLinearizability, formatExplanation } from './check-linearizability.ts';
import { kvModel } from '../../specs/core/models/kv.ts';
import { ILLEGAL, type SequentialModel } from './model.ts';
import { registerModel } from '../../specs/core/models/register.ts';
import { wholeObjectModel } from './whole-object-model.ts';

/** One operation in ten never returns. */
const crashed = fc.integer({ min: 0, max: 9 }).map((x) => x === 0);
const unknownOr = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 6, arbitrary: arb });

const registerValue = fc.integer({ min: 0, max: 2 });
const registerOp: fc.Arbitrary<{ input: RegisterInput; output: RegisterOutput | undefined }> = fc.oneof(
  unknownOr(fc.oneof(fc.constant(null), registerValue)).map((output) => ({ input: { f: 'read' } as const, output })),
  fc.tuple(registerValue, unknownOr(fc.constant(null))).map(([value, output]) => ({ input: { f: 'write', value } as const, output })),
  fc.tuple(registerValue, registerValue, unknownOr(fc.boolean())).map(([from, to, output]) => ({ input: { f: 'cas', from, to } as const, output })),
);

const kvKey = fc.constantFrom('a', 'b');
const kvString = fc.constantFrom('', 'x', 'y', 'xy', 'yx');
const kvOp: fc.Arbitrary<{ input: KvInput; output: KvOutput | undefined }> = fc.oneof(
  fc.tuple(kvKey, unknownOr(kvString)).map(([key, output]) => ({ input: { f: 'get', key } as const, output })),
  fc.tuple(kvKey, fc.constantFrom('x', 'y'), unknownOr(fc.constant(null))).map(([key, value, output]) => ({ input: { f: 'put', key, value } as const, output })),
  fc.tuple(kvKey, fc.constantFrom('x', 'y'), unknownOr(fc.constant(null))).map(([key, value, output]) => ({ input: { f: 'append', key, value } as const, output })),
  fc.tuple(kvKey, kvString, fc.constantFrom('x', 'y'), unknownOr(fc.boolean())).map(([key, from, to, output]) => ({ input: { f: 'cas', key, from, to } as const, output })),
);

/**
 * Histories of up to `max` operations, each with its own process; times in small ranges so
 * that operations overlap often.
 */
function historyOf<I, O>(op: fc.Arbitrary<{ input: I; output: O | undefined }>, max: number): fc.Arbitrary<History<I, O>> {
  return fc
    .array(fc.tuple(op, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 6 }), crashed), { minLength: 1, maxLength: max })
    .map((ops) =>
      makeHistory(
        ops.map(([{ input, output }, call, length, never], process): OperationInit<I, O> => ({
          process,
          input,
          // an operation that never returned has an unknown output
          output: never ? undefined : output,
          call,
          return: never ? Infinity : call + length,
        })),
      ),
    );
}

describe('checkLinearizability agrees with the brute-force checker', () => {
  it('on small register histories', () => {
    let linearizable = 0;
    fc.assert(
      fc.property(historyOf(registerOp, 7), (h) => {
        const expected = checkLinearizabilityBruteForce(h, registerModel);
        if (expected) linearizable++;
        const verdict = expected ? 'linearizable' : 'not-linearizable';
        expect(checkLinearizability(h, registerModel).result).toBe(verdict);
        expect(checkLinearizability(h, registerModel, { reductions: false }).result).toBe(verdict);
      }),
      { numRuns: 600, seed: 1 },
    );
    // the generator must produce both verdicts often enough to mean something
    expect(linearizable).toBeGreaterThan(100);
    expect(linearizable).toBeLessThan(500);
  });

  it('on small kv histories, partitioned and as one object', () => {
    let linearizable = 0;
    fc.assert(
      fc.property(historyOf(kvOp, 7), (h) => {
        const expected = checkLinearizabilityBruteForce(h, wholeObjectModel(kvModel));
        if (expected) linearizable++;
        const verdict = expected ? 'linearizable' : 'not-linearizable';
        expect(checkLinearizability(h, kvModel).result).toBe(verdict);
        expect(checkLinearizability(h, wholeObjectModel(kvModel)).result).toBe(verdict);
      }),
      { numRuns: 600, seed: 2 },
    );
    expect(linearizable).toBeGreaterThan(100);
    expect(linearizable).toBeLessThan(500);
  });

  it('on a user-defined model with object states and default equality (a FIFO queue)', () => {
    type Q = readonly number[];
    type QIn = { op: 'enq'; v: number } | { op: 'deq' };
    const queue: SequentialModel<Q, QIn, number | null> = {
      name: 'queue',
      init: () => [],
      step(q, input, output) {
        if (input.op === 'enq') return { ok: true, next: [...q, input.v] };
        const head = q.length > 0 ? q[0]! : null;
        if (output !== undefined && output !== head) return ILLEGAL;
        return { ok: true, next: q.slice(1) };
      },
    };
    const op = fc.oneof(
      fc.integer({ min: 1, max: 3 }).map((v) => ({ input: { op: 'enq', v } as QIn, output: null as number | null | undefined })),
      unknownOr(fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 3 }))).map((output) => ({ input: { op: 'deq' } as QIn, output })),
    );
    fc.assert(
      fc.property(historyOf(op, 6), (h) => {
        expect(checkLinearizability(h, queue).result).toBe(checkLinearizabilityBruteForce(h, queue) ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('checkLinearizability', () => {
  const reg = (ops: OperationInit<RegisterInput, RegisterOutput>[]): History<RegisterInput, RegisterOutput> => makeHistory(ops);

  it('tells a stale read apart from a concurrent one', () => {
    const write = { process: 0, input: { f: 'write', value: 1 } as const, output: null, call: 0, return: 10 };
    // the read overlaps the write: it may see either value
    expect(checkLinearizability(reg([write, { process: 1, input: { f: 'read' }, output: null, call: 5, return: 6 }]), registerModel).result).toBe('linearizable');
    // read 1, then a later read sees nil again: not linearizable
    const h = reg([
      write,
      { process: 1, input: { f: 'read' }, output: 1, call: 1, return: 2 },
      { process: 2, input: { f: 'read' }, output: null, call: 3, return: 4 },
    ]);
    const r = checkLinearizability(h, registerModel);
    expect(r.result).toBe('not-linearizable');
    expect(r.explanation!.longestPrefix.map((o) => o.description)).toEqual(['write(1)', 'read() -> 1']);
    expect(r.explanation!.blocked.description).toBe('read() -> nil');
    expect(r.explanation!.stateAfterPrefix).toBe('1');
    expect(formatExplanation(r.explanation!)).toContain('#2 p2 read() -> nil');
  });

  it('accepts an unknown (crashed) write that takes effect late, or never', () => {
    const h = reg([
      { process: 0, input: { f: 'write', value: 1 }, call: 0 },
      { process: 1, input: { f: 'read' }, output: null, call: 1, return: 2 },
      { process: 2, input: { f: 'read' }, output: 1, call: 3, return: 4 },
    ]);
    expect(checkLinearizability(h, registerModel).result).toBe('linearizable');
    expect(checkLinearizability(reg(h.operations.slice(0, 2)), registerModel).result).toBe('linearizable');
  });

  it('answers unknown when the time limit is reached', () => {
    // many concurrent writes of distinct values, then a read nobody wrote: every order is tried
    const ops: OperationInit<RegisterInput, RegisterOutput>[] = [];
    for (let i = 0; i < 22; i++) ops.push({ process: i, input: { f: 'write', value: i }, output: null, call: 0, return: 100 });
    for (let i = 0; i < 22; i++) ops.push({ process: 100 + i, input: { f: 'cas', from: i, to: i + 100 }, output: true, call: 0, return: 100 });
    ops.push({ process: 999, input: { f: 'read' }, output: 12345, call: 200, return: 201 });
    const r = checkLinearizability(reg(ops), registerModel, { timeLimitSeconds: 0.2 });
    expect(r.result).toBe('unknown');
    expect(r.seconds).toBeLessThan(2);
  });

  it('reports the failing partition of a partitioned history', () => {
    const h = makeHistory<KvInput, KvOutput>([
      { process: 0, input: { f: 'put', key: 'a', value: 'x' }, output: null, call: 0, return: 1 },
      { process: 0, input: { f: 'get', key: 'b' }, output: 'x', call: 2, return: 3 },
    ]);
    const r = checkLinearizability(h, kvModel);
    expect(r.partitions).toBe(2);
    expect(r.explanation!.partition).toBe('b');
    expect(checkLinearizability(h, kvModel, { partition: false }).partitions).toBe(1);
  });

  it('rejects misuse with stable codes', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as HistoryCheckerError).code;
      }
      return 'none';
    };
    expect(code(() => checkLinearizability(reg([]), registerModel, { timeLimitSeconds: 0 }))).toBe('checkLinearizability/bad-time-limit');
    const bad = { operations: [{ id: 0, process: 0, input: { f: 'read' } as const, output: null, call: 5, return: 1 }] };
    expect(code(() => checkLinearizability(bad, registerModel))).toBe('checkLinearizability/bad-time');
    expect(code(() => wholeObjectModel(registerModel))).toBe('wholeObjectModel/not-partitioned');
  });
});
