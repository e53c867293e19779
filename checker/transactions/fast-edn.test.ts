import { describe, expect, it } from 'vitest';
import { splitEdnForms } from '../history/edn-forms.ts';
import { parseEdnForm } from '../history/jepsen-edn.ts';
import { fastEdnValue } from './fast-edn.ts';

describe('fastEdnValue', () => {
  it('reads what the general reader reads', () => {
    const text = [
      '; a Jepsen history',
      '{:type :invoke, :f :txn, :value [[:append 5 1] [:r 5 nil]], :process 0, :time 12, :index 0}',
      '{:type :ok, :f :txn, :value [[:append 5 1] [:r 5 [1]]], :process 0, :time -3.5e2, :index 1}',
      '{:type :info, :f :start-partition, :value "majority\\n \\"x\\"", :process :nemesis}',
      '{:type :invoke,',
      '  :f :txn, :value [[:r :x nil] [:w :y -2]], :process 3, :extra #{1 2} :sym foo/bar :b true :list (1 2)}',
      '{:type :fail, :f :txn, :value [[:r :x nil] [:w :y -2]], :process 3 :error {:cause "timeout"}}',
    ].join('\n');
    const forms = splitEdnForms(text, 'h.edn');
    expect(forms.length).toBe(5);
    for (const form of forms) expect(fastEdnValue(form.text), form.text).toEqual(parseEdnForm(form.text));
  });

  it('gives up on what it does not read, leaving it to the general reader', () => {
    for (const text of ['{:type :ok, :f :txn, :value #inst "2020-01-01", :process 0}', '{:type :ok, :f :txn, :value \\a, :process 0}', '{:type :ok :f}', '{:type :ok, :f :txn, :value 12345678901234567890, :process 0}', '#_ {:a 1} {:b 2}', '{:a 1} {:b 2}']) {
      expect(fastEdnValue(text), text).toBeUndefined();
    }
  });
});
