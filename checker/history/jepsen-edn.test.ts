import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitEdnForms } from './edn-forms.ts';
import { HistoryFormatError } from './errors.ts';
import { parseEdnKvHistory, parseEdnRegisterHistory, parseJepsenEvents } from './jepsen-edn.ts';
import { porcupineCorpus } from '../../tests/fixtures/porcupine.ts';

const anchors = porcupineCorpus;

const formatError = (f: () => unknown): HistoryFormatError => {
  try {
    f();
  } catch (e) {
    if (e instanceof HistoryFormatError) return e;
    throw e;
  }
  throw new Error('expected a HistoryFormatError');
};

describe('splitEdnForms', () => {
  it('splits top-level forms with their lines, and unwraps one enclosing vector', () => {
    expect(splitEdnForms('{:a 1}\n; comment\n{:b [1 2]\n :c "x}"}\n', 'f')).toEqual([
      { text: '{:a 1}', line: 1 },
      { text: '{:b [1 2]\n :c "x}"}', line: 3 },
    ]);
    expect(splitEdnForms('[{:a 1}\n {:b #{2}}\n #_ {:c 3} {:d #inst "2020-01-01"}]', 'f').map((f) => f.line)).toEqual([1, 2, 3]);
  });

  it.each([
    ['{:a 1', 1, /never closed/],
    ['{:a 1}\n{:b 2]', 2, /closes "\{" opened on line 2/],
    ['{:a 1}\n{:b}', 2, /odd number of forms/],
    ['{:a "x}', 1, /unterminated string/],
    ['\n\n}', 3, /nothing open/],
  ])('rejects %j at line %i', (text, line, message) => {
    const e = formatError(() => splitEdnForms(text, 'f.edn'));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
  });
});

describe('Jepsen EDN histories', () => {
  it('reads the kv corpus with the expected operation counts', () => {
    const rows = readFileSync(`${anchors}expected_detailed.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const [file, ops, , , , , , , processes, keys] of rows.filter((r) => r[0]!.startsWith('kv/'))) {
      const h = parseEdnKvHistory(readFileSync(anchors + file, 'utf8'), file);
      expect(h.operations.length, file).toBe(+ops!);
      expect(new Set(h.operations.map((o) => o.process)).size).toBe(+processes!);
      expect(new Set(h.operations.map((o) => o.input.key)).size).toBe(+keys!);
    }
  });

  it('pairs with Knossos semantics: :fail drops the operation, :info leaves it open, nemesis is skipped', () => {
    const text = [
      '{:process 0, :type :invoke, :f :write, :value 1}',
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 1, :type :invoke, :f :cas, :value [1 2]}',
      '{:process 0, :type :ok, :f :write, :value 1}',
      '{:process 1, :type :fail, :f :cas, :value [1 2]}',
      '{:process 2, :type :invoke, :f :read, :value nil}',
      '{:process 2, :type :info, :f :read, :value nil}',
      '{:process 3, :type :invoke, :f :read, :value nil}',
      '{:process 3, :type :ok, :f :read, :value 1}',
    ].join('\n');
    const h = parseEdnRegisterHistory(text, 'r.edn');
    expect(h.operations.map((o) => [o.process, o.input, o.output, o.return])).toEqual([
      [0, { f: 'write', value: 1 }, null, 2],
      [2, { f: 'read' }, undefined, Infinity],
      [3, { f: 'read' }, 1, 7],
    ]);
    expect(h.operations[2]!.source).toEqual({ callLine: 8, returnLine: 9 });
  });

  it.each([
    ['{:process 0, :type :invoke, :f :read, :value nil}\n[1 2]', 2, /expected an operation map/],
    ['{:process 0, :type :call, :f :read, :value nil}', 1, /:type must be/],
    ['{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :invoke, :f :read, :value nil}', 2, /still pending/],
    ['{:process 0, :type :ok, :f :read, :value nil}', 1, /no pending invocation/],
    ['{:process 0, :type :invoke, :f :cas, :value 3}', 1, /:cas needs :value \[from to\]/],
  ])('rejects bad register history %# at line %i', (text, line, message) => {
    const e = formatError(() => parseEdnRegisterHistory(text, 'bad.edn'));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
  });

  it('keeps :key for kv operations and requires it', () => {
    const events = parseJepsenEvents('{:process 0, :type :invoke, :f :get, :key "k", :value nil}');
    expect(events[0]).toMatchObject({ key: 'k', f: 'get', type: 'invoke' });
    expect(formatError(() => parseEdnKvHistory('{:process 0, :type :invoke, :f :get, :value nil}')).message).toMatch(/need a string :key/);
  });
});
