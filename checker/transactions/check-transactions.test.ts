import { describe, expect, it } from 'vitest';
import { HistoryCheckerError, HistoryFormatError } from '../history/errors.ts';
import { checkTransactions, formatAnomaly, type AnomalyType, type TransactionCheckResult } from './check-transactions.ts';
import { makeTransactionHistory, type TransactionInit, type TxnOp } from './transaction.ts';

const r = (key: string, value: number | null): TxnOp => ({ f: 'r', key, value });
const w = (key: string, value: number): TxnOp => ({ f: 'w', key, value });
/** Transactions on their own processes; all concurrent (call 0, return 100) unless given times. */
const txn = (ops: TxnOp[], extra: Partial<TransactionInit> = {}): TransactionInit => ({ process: 0, ops, status: 'committed', call: 0, return: 100, ...extra });
const check = (txns: TransactionInit[]): TransactionCheckResult => checkTransactions(makeTransactionHistory(txns.map((t, i) => ({ ...t, process: i }))));
const types = (res: TransactionCheckResult): AnomalyType[] => res.anomalies.map((a) => a.type);
const anomaly = (res: TransactionCheckResult, type: AnomalyType) => res.anomalies.find((a) => a.type === type)!;

describe('checkTransactions: one hand-built history per anomaly class', () => {
  it('G0: a write cycle', () => {
    // T1 read T0's x before overwriting it, and T0 read T1's y before overwriting it: each
    // installed its version after the other's
    const res = check([txn([w('x', 1), r('y', 2), w('y', 1)]), txn([r('x', 1), w('x', 2), w('y', 2)])]);
    expect(types(res)).toContain('G0');
    const g0 = anomaly(res, 'G0');
    expect(g0.cycle!.map((s) => [s.from, s.type, s.to])).toEqual([[0, 'ww', 1], [1, 'ww', 0]]);
    expect(res.models.serializable).toBe(false);
    expect(res.models['snapshot-isolation']).toBe(false);
  });

  it('G1a: reading an aborted write', () => {
    const res = check([txn([w('x', 1)], { status: 'aborted' }), txn([r('x', 1)])]);
    expect(types(res)).toEqual(['G1a']);
    expect(anomaly(res, 'G1a').transactions).toEqual([0, 1]);
    expect(res.models).toEqual({ 'snapshot-isolation': false, serializable: false, 'strict-serializable': false, 'external-consistency': false });
  });

  it('G1b: reading an intermediate write', () => {
    const res = check([txn([w('x', 1), w('x', 2)]), txn([r('x', 1)])]);
    expect(types(res)).toEqual(['G1b']);
    expect(anomaly(res, 'G1b').description).toMatch(/intermediate write of T0/);
  });

  it('G1c: circular information flow through reads', () => {
    const res = check([txn([w('x', 1), r('y', 2)]), txn([w('y', 2), r('x', 1)])]);
    expect(types(res)).toContain('G1c');
    expect(types(res)).not.toContain('G0');
    expect(anomaly(res, 'G1c').cycle!.map((s) => s.type)).toEqual(['wr', 'wr']);
    expect(res.models['snapshot-isolation']).toBe(false);
  });

  it('G-single: read skew', () => {
    // T1 sees T0's write of y but not its write of x
    const res = check([txn([w('x', 1), w('y', 1)]), txn([r('x', null), r('y', 1)])]);
    expect(types(res)).toEqual(['G-single']);
    const cycle = anomaly(res, 'G-single').cycle!;
    expect(cycle.map((s) => s.type).sort()).toEqual(['rw', 'wr']);
    expect(cycle.find((s) => s.type === 'rw')!.reason).toBe('T1 read x = nil, T0 overwrote it with 1');
    expect(res.models['snapshot-isolation']).toBe(false);
    expect(res.models.serializable).toBe(false);
  });

  it('G2: write skew, allowed by snapshot isolation only', () => {
    const res = check([txn([r('x', null), r('y', null), w('x', 1)]), txn([r('x', null), r('y', null), w('y', 2)])]);
    expect(types(res)).toEqual(['G2']);
    expect(anomaly(res, 'G2').cycle!.map((s) => s.type)).toEqual(['rw', 'rw']);
    expect(res.models).toEqual({ 'snapshot-isolation': true, serializable: false, 'strict-serializable': false, 'external-consistency': false });
  });

  it('tells a serializable but not strictly serializable history apart (a stale read after a write finished)', () => {
    const res = check([txn([w('x', 1)], { call: 0, return: 1 }), txn([r('x', null)], { call: 2, return: 3 })]);
    expect(res.models.serializable).toBe(true);
    expect(res.models['strict-serializable']).toBe(false);
    expect(types(res)).toEqual(['G-single-realtime']);
    expect(anomaly(res, 'G-single-realtime').cycle!.map((s) => [s.from, s.type, s.to])).toEqual([[0, 'rt', 1], [1, 'rw', 0]]);
    // the same transactions overlapping in time are strictly serializable
    expect(check([txn([w('x', 1)]), txn([r('x', null)])]).models['strict-serializable']).toBe(true);
  });

  it('infers version order from real time for strict serializability: a read of an overwritten value', () => {
    const res = check([
      txn([w('x', 1)], { call: 0, return: 1 }),
      txn([w('x', 2)], { call: 2, return: 3 }),
      txn([r('x', 1)], { call: 4, return: 5 }),
    ]);
    expect(res.models.serializable).toBe(true);
    expect(res.models['strict-serializable']).toBe(false);
    expect(anomaly(res, 'G-single-realtime').cycle!.some((s) => s.reason.includes('version order from real time'))).toBe(true);
  });

  it('checks commit timestamps against real time for external consistency', () => {
    const res = check([txn([w('x', 1)], { call: 0, return: 1, commitTs: 10 }), txn([w('y', 1)], { call: 2, return: 3, commitTs: 5 })]);
    expect(res.timestamps).toBe(true);
    expect(res.models['strict-serializable']).toBe(true);
    expect(res.models['external-consistency']).toBe(false);
    expect(anomaly(res, 'G0-timestamp').cycle!.map((s) => s.type)).toEqual(['rt', 'ts']);
  });

  it('finds a shortest cycle when longer ones exist', () => {
    // a read-skew cycle of four: T0 -wr-> T1 -wr-> T2 -wr-> T3 -rw-> T0, and one of two: T4 -wr-> T5 -rw-> T4
    const res = check([
      txn([w('a', 1), w('z', 1)]),
      txn([r('a', 1), w('b', 1)]),
      txn([r('b', 1), w('c', 1)]),
      txn([r('c', 1), r('z', null)]),
      txn([w('p', 1), w('q', 1)]),
      txn([r('p', null), r('q', 1)]),
    ]);
    const cycle = anomaly(res, 'G-single').cycle!;
    expect(cycle.length).toBe(2);
    expect(new Set(cycle.map((s) => s.from))).toEqual(new Set([4, 5]));
    expect(formatAnomaly(anomaly(res, 'G-single'))).toMatch(/^G-single \(cycle of 2\)/);
    // without the short one, the cycle of four is found
    const long = check([
      txn([w('a', 1), w('z', 1)]),
      txn([r('a', 1), w('b', 1)]),
      txn([r('b', 1), w('c', 1)]),
      txn([r('c', 1), r('z', null)]),
    ]);
    expect(anomaly(long, 'G-single').cycle!.map((s) => [s.from, s.type, s.to])).toEqual([[0, 'wr', 1], [1, 'wr', 2], [2, 'wr', 3], [3, 'rw', 0]]);
  });

  it('reports internal and garbage reads, and counts unknown transactions whose writes were read', () => {
    const res = check([txn([w('x', 1), r('x', 2)]), txn([r('y', 7)]), txn([w('z', 1)], { status: 'unknown', return: undefined }), txn([r('z', 1)])]);
    expect(types(res).sort()).toEqual(['garbage-read', 'internal']);
    expect(res.effective).toBe(4);
    expect(res.valid).toBe(false);
  });

  it('is valid for a serial history', () => {
    const res = check([txn([w('x', 1)], { call: 0, return: 1 }), txn([r('x', 1), w('x', 2)], { call: 2, return: 3 }), txn([r('x', 2)], { call: 4, return: 5 })]);
    expect(res.anomalies).toEqual([]);
    expect(Object.values(res.models)).toEqual([true, true, true, true]);
  });

  it('rejects values written twice and unknown models', () => {
    expect(() => check([txn([w('x', 1)]), txn([w('x', 1)], { line: 9 })])).toThrow(HistoryFormatError);
    expect(() => check([txn([w('x', 1)]), txn([w('x', 1)], { line: 9 })])).toThrow(/:9: T1 writes x = 1, already written by T0/);
    expect(() => checkTransactions(makeTransactionHistory([]), { model: 'linearizable' as never })).toThrow(HistoryCheckerError);
  });
});
