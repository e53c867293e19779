import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from './errors.ts';
import { makeHistory } from './history.ts';
import { formatJsonHistory, parseJsonHistory } from './json-history.ts';
import { kvDecoder, registerDecoder } from './operations.ts';

const doc = (ops: string[]): string => `{\n  "format": "pacta-history",\n  "version": 1,\n  "operations": [\n${ops.join(',\n')}\n  ]\n}\n`;

const error = (text: string): HistoryFormatError => {
  try {
    parseJsonHistory(text, registerDecoder, 'h.json');
  } catch (e) {
    if (e instanceof HistoryFormatError) return e;
    throw e;
  }
  throw new Error('expected a HistoryFormatError');
};

describe('JSON histories', () => {
  it('reads operations: absent return = never returned, absent output = unknown', () => {
    const h = parseJsonHistory(
      doc([
        '{"process": 0, "call": 0, "return": 3, "input": {"f": "write", "value": 1}, "output": null}',
        '{"process": "c1", "call": 1, "input": {"f": "cas", "from": 1, "to": 2}}',
        '{"process": 2, "call": 4, "return": 5, "input": {"f": "read"}, "output": 1}',
      ]),
      registerDecoder,
      'h.json',
    );
    expect(h.operations.map((o) => [o.process, o.input, o.output, o.call, o.return, o.source?.callLine])).toEqual([
      [0, { f: 'write', value: 1 }, null, 0, 3, 5],
      ['c1', { f: 'cas', from: 1, to: 2 }, undefined, 1, Infinity, 6],
      [2, { f: 'read' }, 1, 4, 5, 7],
    ]);
  });

  it('round-trips through formatJsonHistory', () => {
    const h = makeHistory([
      { process: 0, input: { f: 'put' as const, key: 'a', value: 'x' }, output: null, call: 0, return: 2 },
      { process: 1, input: { f: 'get' as const, key: 'a' }, call: 1 },
    ]);
    const back = parseJsonHistory(formatJsonHistory(h), kvDecoder);
    expect(back.operations.map(({ source: _s, ...o }) => o)).toEqual(h.operations);
  });

  it('names the line of a syntax error', () => {
    const e = error('{\n  "format": "pacta-history",\n  "version": 1\n  "operations": []\n}');
    expect(e.line).toBe(4);
    expect(e.message).toMatch(/^h\.json:4: invalid JSON/);
  });

  it('names the line of an invalid operation field', () => {
    const e = error(doc(['{"process": 0, "call": 0, "return": 1, "input": {"f": "read"}, "output": 1}', '{"process": 1, "call": 2,\n "input": {"f": "swap"}}']));
    expect(e.line).toBe(7);
    expect(e.message).toMatch(/operation 1: register operations are read, write and cas; got f = "swap"/);
    expect(error(doc(['{"process": 0, "call": 5, "return": 1, "input": {"f": "read"}}'])).message).toMatch(/h\.json:5: operation 0: returns at 1, before its call at 5/);
    expect(error(doc(['{"process": 0, "call": 0, "input": {"f": "cas", "from": 1, "to": 2}, "output": 3}'])).message).toMatch(/a cas returns true or false, got 3/);
  });

  it('rejects a document that is not a pacta history', () => {
    expect(error('[1, 2]').message).toMatch(/expected an object/);
    expect(error('{"format": "other"}').message).toMatch(/"format" must be "pacta-history"/);
    expect(error('{"format": "pacta-history", "version": 2, "operations": []}').message).toMatch(/unsupported "version" 2/);
  });
});
