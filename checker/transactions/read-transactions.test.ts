import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from '../history/errors.ts';
import { generateListAppend, toEdn } from '../../bench/txcheck-histories.ts';
import { JSON_TRANSACTIONS_FORMAT, parseEdnTransactions, parseJsonTransactions, readEdnTransactions, readJsonTransactions } from './read-transactions.ts';

const lineOf = (f: () => unknown): [number, string] => {
  try {
    f();
  } catch (e) {
    if (e instanceof HistoryFormatError) return [e.line, e.message];
    throw e;
  }
  throw new Error('expected a HistoryFormatError');
};

describe('transaction readers', () => {
  it('reads the JSON format', () => {
    const h = parseJsonTransactions(
      JSON.stringify({
        format: 'pacta-transactions',
        version: 1,
        transactions: [
          { process: 0, call: 0, return: 2, status: 'committed', commitTs: 5, ops: [['r', 'x', null], ['w', 'y', 2]] },
          { process: 1, call: 1, status: 'unknown', ops: [['w', 'x', 1]] },
        ],
      }, null, 1),
    );
    expect(h.transactions.map((t) => [t.status, t.return, t.commitTs, t.ops.length])).toEqual([
      ['committed', 2, 5, 2],
      ['unknown', Infinity, undefined, 1],
    ]);
  });

  it('names the line of a bad JSON transaction', () => {
    const text = '{"format": "pacta-transactions", "version": 1, "transactions": [\n {"process": 0, "call": 0, "status": "committed", "ops": [["r", "x", null]]},\n {"process": 1, "call": 1, "status": "done", "ops": []}\n]}';
    const [line, message] = lineOf(() => parseJsonTransactions(text, 't.json'));
    expect(line).toBe(3);
    expect(message).toMatch(/t\.json:3: transaction 1: "status" must be/);
    const [line2, message2] = lineOf(() => parseJsonTransactions('{"format": "pacta-transactions", "version": 1, "transactions": [\n {"process": 0, "call": 0, "status": "committed",\n  "ops": [["x", "k", 1]]}]}', 't.json'));
    expect([line2, message2]).toEqual([3, expect.stringMatching(/operation 0: operations are "r" \(read\), "w" \(write, rw-register\) and "append" \(list-append\)/)]);
  });

  it('reads Elle rw-register EDN: :ok commits, :fail aborts, :info is unknown', () => {
    const text = [
      '{:type :invoke, :f :txn, :value [[:r :x nil] [:w :y 1]], :process 0}',
      '{:type :invoke, :f :txn, :value [[:w :x 2]], :process 1}',
      '{:type :ok, :f :txn, :value [[:r :x nil] [:w :y 1]], :process 0, :commit-ts 7}',
      '{:type :fail, :f :txn, :value [[:w :x 2]], :process 1}',
      '{:type :invoke, :f :txn, :value [[:w :x 3]], :process 2}',
      '{:type :info, :f :txn, :value [[:w :x 3]], :process 2}',
    ].join('\n');
    const h = parseEdnTransactions(text, 'h.edn');
    expect(h.transactions.map((t) => [t.status, t.call, t.return, t.commitTs, t.line])).toEqual([
      ['committed', 0, 2, 7, 1],
      ['aborted', 1, 3, undefined, 2],
      ['unknown', 4, Infinity, undefined, 5],
    ]);
    expect(h.transactions[0]!.ops).toEqual([{ f: 'r', key: 'x', value: null }, { f: 'w', key: 'y', value: 1 }]);
  });

  it('names the line of a bad EDN transaction', () => {
    expect(lineOf(() => parseEdnTransactions('{:type :invoke, :f :txn, :value [[:r :x nil]], :process 0}\n{:type :ok, :f :txn, :value [[:w :x 1]], :process 0}'))[0]).toBe(2);
    expect(lineOf(() => parseEdnTransactions('{:type :invoke, :f :txn, :value [[:q :x nil]], :process 0}'))[1]).toMatch(/micro-operation 0/);
  });

  it('reads list-append EDN (appends, list reads, integer keys) and JSON with a workload', () => {
    const text = [
      '{:type :invoke, :f :txn, :value [[:append 5 1] [:r 5 nil]], :process 0, :time 10, :index 0}',
      '{:type :ok, :f :txn, :value [[:append 5 1] [:r 5 [1]]], :process 0, :time 20, :index 1}',
      '{:type :invoke, :f :nemesis, :value nil, :process :nemesis}',
      '{:type :invoke, :f :txn, :value [[:r 5 nil]], :process 1}',
      '{:type :info, :f :txn, :value [[:r 5 nil]], :process 1}',
    ].join('\n');
    const h = parseEdnTransactions(text, 'la.edn');
    expect(h.transactions[0]!.ops).toEqual([{ f: 'append', key: 5, value: 1 }, { f: 'r', key: 5, value: [1] }]);
    expect(h.transactions[1]!.ops).toEqual([{ f: 'r', key: 5, value: null }]);
    const json = parseJsonTransactions(JSON.stringify({ format: 'pacta-transactions', version: 1, workload: 'list-append', transactions: [{ process: 0, call: 0, return: 1, status: 'committed', ops: [['append', 'x', 1], ['r', 'x', [1]]] }] }));
    expect(json.workload).toBe('list-append');
    expect(json.transactions[0]!.ops[1]).toEqual({ f: 'r', key: 'x', value: [1] });
    expect(lineOf(() => parseJsonTransactions('{"format": "pacta-transactions", "version": 1,\n "workload": "bank", "transactions": []}', 'w.json'))).toEqual([2, expect.stringMatching(/"workload" must be "list-append" or "rw-register", got "bank"/)]);
    expect(lineOf(() => parseEdnTransactions('{:type :invoke, :f :txn, :value [[:r 5 nil]], :process 0}\n{:type :ok, :f :txn, :value [[:r 5 [1 {:a 1}]]], :process 0}'))).toEqual([2, expect.stringMatching(/a list read holds strings or numbers/)]);
  });

  it('reads a history given in chunks cut anywhere as it reads the whole text (txcheck streams its file)', () => {
    const history = generateListAppend({ transactions: 60, seed: 25 });
    const edn = toEdn(history);
    const json = JSON.stringify({ format: JSON_TRANSACTIONS_FORMAT, version: 1, transactions: history.transactions.map(({ id: _id, line: _line, ops, ...t }) => ({ ...t, ops: ops.map((o) => [o.f, o.key, o.value]), return: Number.isFinite(t.return) ? t.return : null })) }, null, 1);
    const pieces = (text: string, size: number): string[] => text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];
    const whole = { edn: parseEdnTransactions(edn, 'h'), json: parseJsonTransactions(json, 'h') };
    expect(whole.edn.transactions.length).toBe(60);
    expect(whole.json.transactions.length).toBe(60);
    for (const size of [1, 2, 7, 64, 1000]) {
      expect(readEdnTransactions(pieces(edn, size), 'h')).toEqual(whole.edn);
      expect(readJsonTransactions(pieces(json, size), 'h')).toEqual(whole.json);
    }
  });
});
