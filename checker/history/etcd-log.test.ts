import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from './errors.ts';
import { parseEtcdLog } from './etcd-log.ts';
import { porcupineCorpus } from '../../tests/fixtures/porcupine.ts';

const anchors = porcupineCorpus;
const line = (p: number, type: string, f: string, v: string): string => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${v}`;

describe('parseEtcdLog', () => {
  it('reads every corpus log with the counts of expected_detailed.csv (ok, fail, never returned, processes)', () => {
    const rows = readFileSync(`${anchors}expected_detailed.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    let checked = 0;
    for (const [file, ops, , , , ok, fail, info, processes] of rows) {
      if (!file!.startsWith('jepsen/')) continue;
      const h = parseEtcdLog(readFileSync(anchors + file, 'utf8'), file);
      const o = h.operations;
      expect([
        o.length,
        o.filter((x) => x.output !== undefined && x.output !== false).length,
        o.filter((x) => x.output === false || (x.output === undefined && Number.isFinite(x.return))).length,
        o.filter((x) => !Number.isFinite(x.return)).length,
        new Set(o.map((x) => x.process)).size,
      ], file).toEqual([+ops!, +ok!, +fail!, +info!, +processes!]);
      checked++;
    }
    expect(checked).toBe(102);
  });

  it("follows Porcupine's reading: failed cas returns false, timed-out read is unknown at its line, :info never returns", () => {
    const text = [
      line(0, 'invoke', 'read', 'nil'),
      line(1, 'invoke', 'cas', '[1 2]'),
      line(2, 'invoke', 'write', '3'),
      line(0, 'ok', 'read', 'nil'),
      line(1, 'fail', 'cas', '[1 2]'),
      line(2, 'info', 'write', ':timed-out'),
      line(3, 'invoke', 'read', 'nil'),
      line(3, 'fail', 'read', ':timed-out'),
      line(4, 'invoke', 'cas', '[3 4]'),
      line(4, 'ok', 'cas', '[3 4]'),
      line(5, 'invoke', 'write', '1'),
    ].join('\n');
    const ops = parseEtcdLog(text, 't.log').operations;
    expect(ops.map((o) => [o.process, o.input, o.output, o.call, o.return])).toEqual([
      [0, { f: 'read' }, null, 0, 3],
      [1, { f: 'cas', from: 1, to: 2 }, false, 1, 4],
      [2, { f: 'write', value: 3 }, undefined, 2, Infinity],
      [3, { f: 'read' }, undefined, 6, 7],
      [4, { f: 'cas', from: 3, to: 4 }, true, 8, 9],
      [5, { f: 'write', value: 1 }, undefined, 10, Infinity],
    ]);
    expect(ops[1]!.source).toEqual({ callLine: 2, returnLine: 5 });
  });

  it('accepts an empty log (etcd_095) as an empty history', () => {
    expect(parseEtcdLog(readFileSync(`${anchors}jepsen/etcd_095.log`, 'utf8')).operations).toEqual([]);
  });

  const malformed: [string, string[], number, RegExp][] = [
    ['garbage', [line(0, 'invoke', 'read', 'nil'), 'hello world'], 2, /not a Jepsen etcd log line/],
    ['a bad value', [line(0, 'invoke', 'write', 'x')], 1, /write is invoked with an integer/],
    ['a return with no invoke', [line(0, 'ok', 'read', '1')], 1, /has not invoked/],
    ['a mismatched completion', [line(0, 'invoke', 'read', 'nil'), line(0, 'ok', 'write', '1')], 2, /completes write but its pending operation is read/],
    ['a second invoke', [line(0, 'invoke', 'read', 'nil'), '', line(0, 'invoke', 'read', 'nil')], 3, /still pending/],
    ['an unsupported failure', [line(0, 'invoke', 'write', '1'), line(0, 'fail', 'write', '1')], 2, /unsupported completion/],
  ];
  for (const [name, lines, lineNo, message] of malformed) {
    it(`rejects ${name} with its line number`, () => {
      let error: unknown;
      try {
        parseEtcdLog(lines.join('\n'), 'bad.log');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HistoryFormatError);
      expect((error as HistoryFormatError).line).toBe(lineNo);
      expect((error as HistoryFormatError).file).toBe('bad.log');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message.startsWith(`bad.log:${lineNo}: `)).toBe(true);
    });
  }
});
