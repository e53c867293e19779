/**
 * Hand-written histories for every anomaly class: one that has it and one that narrowly does
 * not. Cycle classes are built from recipes (a cycle of edges, each realized by its own key or
 * by process, real-time or timestamp order) so every class and level is covered the same way.
 */
import { describe, expect, it } from 'vitest';
import { HistoryCheckerError, HistoryFormatError } from '../history/errors.ts';
import { checkTransactions, formatAnomaly, type TransactionCheckOptions, type TransactionCheckResult } from './check-transactions.ts';
import { classifyCycle } from './explain.ts';
import { inferListAppend } from './infer-list-append.ts';
import { findCycles } from './cycles.ts';
import { CYCLE_ANOMALIES, CYCLE_BASES, type AnomalyType, type CycleAnomalyType } from './models.ts';
import { makeTransactionHistory, type TransactionInit, type TxnOp, type TxnValue } from './transaction.ts';

// --- helpers ---------------------------------------------------------------------------------
const r = (key: string, value: number | null): TxnOp => ({ f: 'r', key, value });
const rl = (key: string, value: TxnValue[]): TxnOp => ({ f: 'r', key, value });
const w = (key: string, value: number): TxnOp => ({ f: 'w', key, value });
const ap = (key: string, value: number): TxnOp => ({ f: 'append', key, value });
/** A transaction on its own process, concurrent with everything (call 0, return 100) unless told. */
const txn = (ops: TxnOp[], extra: Partial<TransactionInit> = {}): TransactionInit => ({ process: -1, ops, status: 'committed', call: 0, return: 100, ...extra });
const check = (txns: TransactionInit[], options: TransactionCheckOptions = {}): TransactionCheckResult =>
  checkTransactions(makeTransactionHistory(txns.map((t, i) => ({ ...t, process: t.process === -1 ? 100 + i : t.process }))), options);
const types = (res: TransactionCheckResult): AnomalyType[] => res.anomalies.map((a) => a.type);
const anomaly = (res: TransactionCheckResult, type: AnomalyType) => res.anomalies.find((a) => a.type === type)!;
const allHold = (res: TransactionCheckResult): boolean => Object.values(res.models).every((v) => v);

// --- cycle recipes ---------------------------------------------------------------------------
type EdgeRecipe = 'ww' | 'wr' | 'rw' | 'process' | 'realtime' | 'timestamp';
/**
 * A list-append history whose transactions T0..Tk-1 form the cycle T0 -e0-> T1 -e1-> ... -> T0.
 * Each data edge gets its own key (ww also gets an observer that reads both appends); an order
 * edge puts the two transactions on one process in sequence, in sequence in time, or gives
 * them increasing commit timestamps. `broken` leaves the order edges out (the narrow miss).
 */
function recipe(edges: EdgeRecipe[], broken = false): TransactionInit[] {
  const k = edges.length;
  const ops: TxnOp[][] = Array.from({ length: k }, () => []);
  const extra: Partial<TransactionInit>[] = Array.from({ length: k }, () => ({}));
  const observers: TransactionInit[] = [];
  edges.forEach((e, i) => {
    const a = i;
    const b = (i + 1) % k;
    const key = `k${i}`;
    if (e === 'wr') {
      ops[a]!.push(ap(key, 1));
      ops[b]!.push(rl(key, [1]));
    } else if (e === 'ww') {
      ops[a]!.push(ap(key, 1));
      ops[b]!.push(ap(key, 2));
      observers.push(txn([rl(key, [1, 2])]));
    } else if (e === 'rw') {
      ops[a]!.push(rl(key, []));
      ops[b]!.push(ap(key, 1));
    } else if (!broken) {
      if (e === 'process') {
        extra[a] = { ...extra[a], process: 7, call: 0, return: 1 };
        extra[b] = { ...extra[b], process: 7, call: 2, return: 3 };
      } else if (e === 'realtime') {
        extra[a] = { ...extra[a], call: 0, return: 1 };
        extra[b] = { ...extra[b], call: 2, return: 3 };
      } else {
        extra[a] = { ...extra[a], commitTs: 1 };
        extra[b] = { ...extra[b], commitTs: 2 };
      }
    }
  });
  return [...ops.map((o, i) => txn(o, extra[i])), ...observers];
}
const SHAPES: Record<(typeof CYCLE_BASES)[number], EdgeRecipe[]> = {
  G0: ['ww', 'ww'],
  G1c: ['wr', 'ww'],
  'G-single': ['wr', 'rw'],
  'G-nonadjacent': ['rw', 'wr', 'rw', 'wr'],
  'G2-item': ['rw', 'rw'],
};
const LEVEL_EDGE: Record<string, EdgeRecipe> = { '-process': 'process', '-realtime': 'realtime', '-timestamp': 'timestamp' };
/** The recipe of a class: the base shape, or for a level the shape with one data edge given by that order instead. */
function classRecipe(type: CycleAnomalyType): EdgeRecipe[] {
  const suffix = Object.keys(LEVEL_EDGE).find((s) => type.endsWith(s));
  if (!suffix) return SHAPES[type as keyof typeof SHAPES];
  const base = type.slice(0, -suffix.length) as keyof typeof SHAPES;
  const order = LEVEL_EDGE[suffix]!;
  // replace the last non-rw edge (G2-item keeps its two adjacent rw and gains an order edge)
  const shape = [...SHAPES[base]];
  const i = shape.map((e, j) => (e === 'rw' ? -1 : j)).filter((j) => j >= 0).pop();
  if (i === undefined) shape.push(order);
  else shape[i] = order;
  return shape;
}

describe('cycle anomalies: every class and level, found, and narrowly missed', () => {
  for (const type of CYCLE_ANOMALIES) {
    it(`${type}: ${classRecipe(type).join(', ')}`, () => {
      const res = check(recipe(classRecipe(type)));
      expect(types(res)).toContain(type);
      const a = anomaly(res, type);
      expect(a.cycle!.length).toBe(classRecipe(type).length);
      expect(a.not.length).toBeGreaterThan(0);
      expect(res.models[a.not[0]!]).toBe(false);
      // the narrow miss: without the order edge (levels) or with one data edge turned around (bases)
      const missed = Object.keys(LEVEL_EDGE).some((s) => type.endsWith(s)) ? check(recipe(classRecipe(type), true)) : undefined;
      if (missed) {
        expect(types(missed)).not.toContain(type);
        expect(allHold(missed)).toBe(true);
      }
    });
  }

  it('classifies every found cycle as its class (Elle\'s classification of the edges)', () => {
    for (const type of CYCLE_ANOMALIES) {
      const history = makeTransactionHistory(recipe(classRecipe(type)).map((t, i) => ({ ...t, process: t.process === -1 ? 100 + i : t.process })));
      const analysis = inferListAppend(history, { initialState: 'empty', wfrKeys: true, sequentialKeys: false, linearizableKeys: false, process: true, realtime: true, timestamps: true });
      const found = findCycles(analysis.graph, new Set([type]));
      expect(classifyCycle(analysis, found.found.get(type)!.cycle.edges), type).toBe(type);
    }
  });

  it('names the weakest models each class rules out', () => {
    const weakest = (type: CycleAnomalyType) => anomaly(check(recipe(classRecipe(type))), type).not;
    expect(weakest('G0')).toEqual(['read-uncommitted']);
    expect(weakest('G1c')).toEqual(['read-committed']);
    expect(weakest('G-single')).toEqual(['repeatable-read', 'snapshot-isolation']);
    expect(weakest('G-nonadjacent')).toEqual(['repeatable-read', 'snapshot-isolation']);
    expect(weakest('G2-item')).toEqual(['repeatable-read']);
    expect(weakest('G0-process')).toEqual(['strong-session-snapshot-isolation']);
    expect(weakest('G2-item-process')).toEqual(['strong-session-serializable']);
    expect(weakest('G-single-realtime')).toEqual(['strong-snapshot-isolation']);
    expect(weakest('G2-item-realtime')).toEqual(['strict-serializable']);
    expect(weakest('G1c-timestamp')).toEqual(['external-consistency']);
  });
});

describe('cycle anomalies: hand-written narrow misses of the base classes', () => {
  it('G0: two appends to y seen in the other order is no cycle', () => {
    const base = [txn([ap('x', 1), ap('y', 2)]), txn([ap('x', 2), ap('y', 1)]), txn([rl('x', [1, 2])])];
    expect(types(check([...base, txn([rl('y', [1, 2])])]))).toContain('G0');
    expect(allHold(check([...base, txn([rl('y', [2, 1])])]))).toBe(true);
  });

  it('G1c (Elle\'s example): T0 saw y = [1] from T1, but T1 appended to x after T0', () => {
    const res = check([txn([ap('x', 1), rl('y', [1])]), txn([ap('x', 2), ap('y', 1)]), txn([rl('x', [1, 2])])]);
    expect(types(res)).toEqual(['G1c']);
    expect(res.not).toEqual(['read-committed']);
    expect(allHold(check([txn([ap('x', 1), rl('y', [])]), txn([ap('x', 2), ap('y', 1)]), txn([rl('x', [1, 2])])]))).toBe(true);
  });

  it('G-single (read skew): T1 sees T0\'s append to x but not to y; seeing both is fine', () => {
    const res = check([txn([ap('x', 1), ap('y', 1)]), txn([rl('x', [1]), rl('y', [])])]);
    expect(types(res)).toEqual(['G-single']);
    expect(res.models['read-committed']).toBe(true);
    expect(res.models['snapshot-isolation']).toBe(false);
    expect(allHold(check([txn([ap('x', 1), ap('y', 1)]), txn([rl('x', [1]), rl('y', [1])])]))).toBe(true);
  });

  it('G-nonadjacent: two rw edges apart; snapshot isolation forbids it, adjacent ones (G2-item) it allows', () => {
    const res = check(recipe(SHAPES['G-nonadjacent']));
    expect(types(res)).toEqual(['G-nonadjacent']);
    expect(res.models['snapshot-isolation']).toBe(false);
    const adjacent = check(recipe(['rw', 'rw', 'wr', 'wr']));
    expect(types(adjacent)).toEqual(['G2-item']);
    expect(adjacent.models['snapshot-isolation']).toBe(true);
  });

  it('G2-item (write skew): allowed by snapshot isolation; seeing the other append breaks the cycle', () => {
    const res = check([txn([rl('x', []), rl('y', []), ap('x', 1)]), txn([rl('x', []), rl('y', []), ap('y', 1)])]);
    expect(types(res)).toEqual(['G2-item']);
    expect(res.models['snapshot-isolation']).toBe(true);
    expect(res.models.serializable).toBe(false);
    expect(res.not).toEqual(['repeatable-read']);
    expect(allHold(check([txn([rl('x', []), rl('y', []), ap('x', 1)]), txn([rl('x', [1]), rl('y', []), ap('y', 1)])]))).toBe(true);
  });
});

describe('direct anomalies (list-append): one history with it, one narrowly without', () => {
  const has = (txns: TransactionInit[], type: AnomalyType, options?: TransactionCheckOptions) => expect(types(check(txns, options))).toContain(type);
  const hasNot = (txns: TransactionInit[], type: AnomalyType, options?: TransactionCheckOptions) => expect(types(check(txns, options))).not.toContain(type);

  it('G1a: a committed read shows an aborted append (not when the appender\'s outcome is unknown)', () => {
    has([txn([ap('x', 1)], { status: 'aborted' }), txn([rl('x', [1])])], 'G1a');
    const unknown = check([txn([ap('x', 1)], { status: 'unknown', return: undefined }), txn([rl('x', [1])])]);
    expect(allHold(unknown)).toBe(true);
    expect(unknown.effective).toBe(2);
  });

  it('G1b: a read ends in an intermediate append (not when it ends in the last one)', () => {
    has([txn([ap('x', 1), ap('x', 2)]), txn([rl('x', [1])])], 'G1b');
    hasNot([txn([ap('x', 1), ap('x', 2)]), txn([rl('x', [1, 2])])], 'G1b');
  });

  it('internal: a read disagrees with the transaction\'s own read and append', () => {
    has([txn([ap('x', 1)]), txn([rl('x', [1]), ap('x', 2), rl('x', [1])])], 'internal');
    hasNot([txn([ap('x', 1)]), txn([rl('x', [1]), ap('x', 2), rl('x', [1, 2])])], 'internal');
    // after an append alone the prefix is unknown: the read must end with the append
    has([txn([ap('x', 1)]), txn([ap('x', 2), rl('x', [2, 1])])], 'internal');
    hasNot([txn([ap('x', 1)]), txn([ap('x', 2), rl('x', [1, 2])])], 'internal');
  });

  it('future-read: a read shows what the transaction appends only later', () => {
    has([txn([rl('x', [1]), ap('x', 1)])], 'future-read');
    hasNot([txn([ap('x', 1), rl('x', [1])])], 'future-read');
  });

  it('lost-update: two transactions read the same state and both append', () => {
    const res = check([txn([rl('x', []), ap('x', 1)]), txn([rl('x', []), ap('x', 2)])]);
    expect(types(res)).toContain('lost-update');
    expect(anomaly(res, 'lost-update').not).toEqual(['repeatable-read', 'snapshot-isolation']);
    hasNot([txn([rl('x', []), ap('x', 1)]), txn([rl('x', [1]), ap('x', 2)])], 'lost-update');
  });

  it('dirty-update: a committed append follows an aborted one in the order', () => {
    has([txn([ap('x', 1)], { status: 'aborted' }), txn([ap('x', 2)]), txn([rl('x', [1, 2])])], 'dirty-update');
    hasNot([txn([ap('x', 1)], { status: 'unknown', return: undefined }), txn([ap('x', 2)]), txn([rl('x', [1, 2])])], 'dirty-update');
  });

  it('duplicate-elements: a read shows one element twice', () => {
    const res = check([txn([ap('x', 1)]), txn([rl('x', [1, 1])])]);
    expect(types(res)).toContain('duplicate-elements');
    expect(res.not).toEqual(['read-uncommitted']);
    hasNot([txn([ap('x', 1)]), txn([rl('x', [1])])], 'duplicate-elements');
  });

  it('incompatible-order: two reads that are not prefixes of one order', () => {
    has([txn([ap('x', 1)]), txn([ap('x', 2)]), txn([rl('x', [1, 2])]), txn([rl('x', [2, 1])])], 'incompatible-order');
    hasNot([txn([ap('x', 1)]), txn([ap('x', 2)]), txn([rl('x', [1, 2])]), txn([rl('x', [1])])], 'incompatible-order');
  });

  it('garbage-read: an element nobody appended (keys start empty); not under initialState unknown', () => {
    has([txn([rl('x', [9])])], 'garbage-read');
    hasNot([txn([rl('x', [9])])], 'garbage-read', { initialState: 'unknown' });
  });
});

describe('rw-register', () => {
  it('G0 through writes that follow reads (wfrKeys), and not without that assumption', () => {
    const h = [txn([w('x', 1), r('y', 2), w('y', 1)]), txn([r('x', 1), w('x', 2), w('y', 2)])];
    const res = check(h);
    expect(types(res)).toContain('G0');
    expect(anomaly(res, 'G0').cycle!.map((s) => s.type)).toEqual(['ww', 'ww']);
    expect(anomaly(res, 'G0').cycle!.some((s) => s.reason.includes('before writing'))).toBe(true);
    expect(types(check(h, { wfrKeys: false }))).not.toContain('G0');
  });

  it('G1a, G1b, internal, future-read', () => {
    expect(types(check([txn([w('x', 1)], { status: 'aborted' }), txn([r('x', 1)])]))).toEqual(['G1a']);
    expect(types(check([txn([w('x', 1), w('x', 2)]), txn([r('x', 1)])]))).toEqual(['G1b']);
    expect(types(check([txn([w('x', 1), w('x', 2)]), txn([r('x', 2)])]))).toEqual([]);
    expect(types(check([txn([w('x', 1), r('x', 2)]), txn([w('x', 2)])]))).toContain('internal');
    expect(types(check([txn([r('x', null), r('x', 2)]), txn([w('x', 2)])]))).toContain('internal');
    expect(types(check([txn([r('x', 1), w('x', 1)])]))).toEqual(['future-read']);
  });

  it('G-single (read skew) and G2-item (write skew)', () => {
    const skew = check([txn([w('x', 1), w('y', 1)]), txn([r('x', null), r('y', 1)])]);
    expect(types(skew)).toEqual(['G-single']);
    expect(anomaly(skew, 'G-single').cycle!.find((s) => s.type === 'rw')!.reason).toBe('T1 read x = nil, T0 overwrote it with 1 (the initial nil precedes every version)'.replace(' (the initial nil precedes every version)', ''));
    const write = check([txn([r('x', null), r('y', null), w('x', 1)]), txn([r('x', null), r('y', null), w('y', 2)])]);
    expect(types(write)).toEqual(['G2-item']);
    expect(write.models['snapshot-isolation']).toBe(true);
  });

  it('lost-update: both read x = 0 and both wrote x', () => {
    const res = check([txn([w('x', 0)], { call: 0, return: 1 }), txn([r('x', 0), w('x', 1)], { call: 2, return: 9 }), txn([r('x', 0), w('x', 2)], { call: 2, return: 9 })]);
    expect(types(res)).toContain('lost-update');
    expect(types(check([txn([w('x', 0)]), txn([r('x', 0), w('x', 1)]), txn([r('x', 1), w('x', 2)])]))).not.toContain('lost-update');
  });

  it('garbage reads follow Elle by default: a value nobody wrote may be the initial value', () => {
    // Elle finds this history valid; pacta did report a garbage read before
    const h = [txn([r('x', 5)]), txn([w('x', 6)])];
    expect(allHold(check(h))).toBe(true);
    const empty = check(h, { initialState: 'empty' });
    expect(types(empty)).toEqual(['garbage-read']);
    expect(anomaly(empty, 'garbage-read').not).toEqual(['read-committed']);
  });

  it('a stale read after a write finished is serializable but not strictly serializable (G-single-realtime)', () => {
    const res = check([txn([w('x', 1)], { call: 0, return: 1 }), txn([r('x', null)], { call: 2, return: 3 })], { models: ['strict-serializable'] });
    expect(res.models.serializable).toBe(true);
    expect(res.valid).toBe(false);
    expect(types(res)).toEqual(['G-single-realtime']);
    expect(anomaly(res, 'G-single-realtime').cycle!.map((s) => [s.from, s.type, s.to])).toEqual([[0, 'realtime', 1], [1, 'rw', 0]]);
    expect(allHold(check([txn([w('x', 1)]), txn([r('x', null)])]))).toBe(true);
  });

  it('infers version order from real time (strict) and from process order (session)', () => {
    const stale = (process: number) => [
      txn([w('x', 1)], { call: 0, return: 1, process }),
      txn([w('x', 2)], { call: 2, return: 3, process }),
      txn([r('x', 1)], { call: 4, return: 5, process }),
    ];
    const rt = check(stale(-1));
    expect(rt.models.serializable).toBe(true);
    expect(rt.models['strict-serializable']).toBe(false);
    expect(rt.models['strong-session-serializable']).toBe(true);
    expect(anomaly(rt, 'G-single-realtime').cycle!.some((s) => s.reason.includes('version order from real time'))).toBe(true);
    const session = check(stale(3));
    expect(types(session)).toContain('G-single-process');
    expect(session.not).toEqual(['strong-session-snapshot-isolation']);
    // with keys assumed linearizable the real-time facts are plain data: a G-single outright
    expect(types(check(stale(-1), { linearizableKeys: true }))).toContain('G-single');
  });

  it('checks commit timestamps against real time for external consistency', () => {
    const res = check([txn([w('x', 1)], { call: 0, return: 1, commitTs: 10 }), txn([w('y', 1)], { call: 2, return: 3, commitTs: 5 })], { model: 'external-consistency' });
    expect(res.timestamps).toBe(true);
    expect(res.models['strict-serializable']).toBe(true);
    expect(res.valid).toBe(false);
    expect(anomaly(res, 'G0-timestamp').cycle!.map((s) => s.type)).toEqual(['realtime', 'timestamp']);
  });
});

describe('checkTransactions: search, verdicts, options', () => {
  it('finds a shortest cycle when longer ones exist', () => {
    const long = [txn([w('a', 1), w('z', 1)]), txn([r('a', 1), w('b', 1)]), txn([r('b', 1), w('c', 1)]), txn([r('c', 1), r('z', null)])];
    const res = check([...long, txn([w('p', 1), w('q', 1)]), txn([r('p', null), r('q', 1)])]);
    const cycle = anomaly(res, 'G-single').cycle!;
    expect(cycle.length).toBe(2);
    expect(new Set(cycle.map((s) => s.from))).toEqual(new Set([4, 5]));
    expect(anomaly(res, 'G-single').components).toBe(2);
    expect(formatAnomaly(anomaly(res, 'G-single'))).toMatch(/^G-single \(cycle of 2, seen in 2 components\): T\d -\w+-> T\d -\w+-> T\d \[rules out repeatable-read, snapshot-isolation\]\n  Let:\n/);
    expect(anomaly(check(long), 'G-single').cycle!.map((s) => [s.from, s.type, s.to])).toEqual([[0, 'wr', 1], [1, 'wr', 2], [2, 'wr', 3], [3, 'rw', 0]]);
  });

  it('explains a cycle step by step, ending in the contradiction', () => {
    const res = check([txn([ap('x', 1), ap('y', 1)]), txn([rl('x', [1]), rl('y', [])])]);
    expect(anomaly(res, 'G-single').explanation).toEqual([
      'Let:',
      '  T0 (process 100): [append x 1] [append y 1]',
      '  T1 (process 101): [r x [1]] [r y []]',
      'Then:',
      '  - T0 < T1, because T1 read x = [1], which ends with T0\'s append of 1.',
      '  - However, T1 < T0, because T1 read y = [] (empty), which lacks T0\'s later append of 1: a contradiction!',
    ]);
  });

  it('is valid for a serial history, every model holding', () => {
    const res = check([txn([ap('x', 1)], { call: 0, return: 1 }), txn([rl('x', [1]), ap('x', 2)], { call: 2, return: 3 }), txn([rl('x', [1, 2])], { call: 4, return: 5 })]);
    expect(res.anomalies).toEqual([]);
    expect(allHold(res)).toBe(true);
    expect(res.valid && res.complete).toBe(true);
  });

  it('checks several models at once, and only the asked anomalies', () => {
    const h = [txn([rl('x', []), rl('y', []), ap('x', 1)]), txn([rl('x', []), rl('y', []), ap('y', 1)])];
    expect(check(h, { models: ['snapshot-isolation', 'PL-2'] }).valid).toBe(true);
    expect(check(h, { models: ['snapshot-isolation', 'PL-3'] }).valid).toBe(false);
    const g1 = check(h, { anomalies: ['G1c'] });
    expect(g1.valid).toBe(true);
    expect(g1.asked).toEqual([]);
    expect(g1.searched).not.toContain('G2-item');
    // asking for G2 finds G2-item (it implies G2)
    expect(check(h, { anomalies: ['G2'] }).valid).toBe(false);
  });

  it('detects the workload, and rejects mixed histories, unknown names and values written twice', () => {
    expect(check([txn([ap('x', 1)])]).workload).toBe('list-append');
    expect(check([txn([w('x', 1)])]).workload).toBe('rw-register');
    expect(() => check([txn([w('x', 1)]), txn([ap('x', 2)], { line: 4 })])).toThrow(/<transactions>:4: mixed workloads: \[append \.\.\.\] \(T1\) is list-append, but \[w \.\.\.\] \(T0\) is rw-register/);
    expect(() => check([txn([w('x', 1)])], { workload: 'list-append' })).toThrow(HistoryFormatError);
    expect(() => check([txn([w('x', 1)]), txn([w('x', 1)], { line: 9 })])).toThrow(/:9: T1 writes x = 1, already written by T0/);
    expect(() => check([txn([ap('x', 1)]), txn([ap('x', 1)], { line: 3 })])).toThrow(/:3: T1 appends 1 to x, already appended by T0/);
    expect(() => check([], { model: 'linearizable' as never })).toThrow(HistoryCheckerError);
    expect(() => check([], { anomalies: ['G9'] })).toThrow(/unknown anomaly "G9"/);
  });
});
