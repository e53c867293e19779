import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';
import { porcupineCorpus } from './fixtures/porcupine.ts';

const anchors = porcupineCorpus;
const scratch = mkdtempSync(join(tmpdir(), 'pacta-lincheck-'));
const write = (name: string, text: string): string => {
  writeFileSync(join(scratch, name), text);
  return name;
};
const run = async (args: string[], cwd = anchors) => {
  const io = memoryIO(cwd);
  const code = await main(['lincheck', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
};

describe('pacta lincheck', () => {
  it('checks etcd logs: a table, the explanation of a failure, exit 1 when one is not linearizable', async () => {
    const { code, out } = await run(['jepsen/etcd_002.log', 'jepsen/etcd_000.log']);
    expect(code).toBe(1);
    expect(out).toMatch(/jepsen\/etcd_002\.log\s*│\s*77\s*│\s*1\s*│ linearizable/);
    expect(out).toMatch(/jepsen\/etcd_000\.log\s*│\s*85\s*│\s*1\s*│ not-linearizable/);
    expect(out).toContain('jepsen/etcd_000.log is not linearizable (model register).');
    expect(out).toMatch(/Longest linearizable prefix \(\d+ operations/);
  });

  it('exits 0 when every history is linearizable', async () => {
    expect((await run(['jepsen/etcd_005.log', 'jepsen/etcd_007.log'])).code).toBe(0);
  });

  it('refuses an empty history (etcd_095.log of the Porcupine corpus is an empty file): exit 2, not linearizable', async () => {
    expect(await run(['jepsen/etcd_095.log'])).toMatchObject({ code: 2, err: expect.stringMatching(/etcd_095\.log is empty/) });
  });

  it('prints one JSON object per file with --json, kv histories partitioned by key', async () => {
    const { code, out } = await run(['--model', 'kv', '--json', 'kv/c10-ok.txt', 'kv/c10-bad.txt']);
    expect(code).toBe(1);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.file, l.result, l.operations, l.partitions])).toEqual([
      ['kv/c10-ok.txt', 'linearizable', 337, 10],
      ['kv/c10-bad.txt', 'not-linearizable', 405, 10],
    ]);
    expect(typeof lines[0].seconds).toBe('number');
    expect(lines[0].explanation).toBeUndefined();
    expect(lines[1].explanation.longestPrefix.length).toBeGreaterThan(0);
    expect(lines[1].explanation.blocked.description).toMatch(/^(get|put|append|cas)\(/);
  });

  it('reads the JSON format and answers unknown (exit 3) at the time limit', async () => {
    const ops = [];
    for (let i = 0; i < 22; i++) ops.push({ process: i, call: 0, return: 100, input: { f: 'write', value: i }, output: null });
    for (let i = 0; i < 22; i++) ops.push({ process: 100 + i, call: 0, return: 100, input: { f: 'cas', from: i, to: i + 100 }, output: true });
    ops.push({ process: 999, call: 200, return: 201, input: { f: 'read' }, output: 12345 });
    const file = write('hard.json', JSON.stringify({ format: 'pacta-history', version: 1, operations: ops }));
    const { code, out } = await run(['--json', '--time-limit', '0.2', file], scratch);
    expect(code).toBe(3);
    expect(JSON.parse(out)).toMatchObject({ file: 'hard.json', result: 'unknown', operations: 45 });
  });

  it.each([
    ['bad.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tforty-two\n', [], 'bad.log:2: a read returns nil or an integer'],
    ['bad.edn', '{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read\n', [], 'bad.edn:2: "{" opened here is never closed'],
    ['bad.json', '{"format": "pacta-history", "version": 1,\n "operations": [\n  {"process": 0, "call": 0, "input": {"f": "get"}}\n]}\n', ['--model', 'kv'], 'bad.json:3: operation 0: kv operations need a string "key"'],
  ])('rejects malformed %s with its line number, exit 2', async (name, text, extra, message) => {
    const { code, out, err } = await run([...extra, write(name, text)], scratch);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.startsWith(`pacta lincheck: ${message}`), err).toBe(true);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('rejects usage errors with exit 2 and no stack trace', async () => {
    for (const args of [['--bogus', 'x.log'], ['--model', 'queue', 'x.log'], [], ['--time-limit', '-1', 'x.log'], ['x.unknown'], ['missing.log']]) {
      const { code, err } = await run(args, scratch);
      expect(code, args.join(' ')).toBe(2);
      expect(err.startsWith('pacta lincheck: ')).toBe(true);
      expect(err).not.toMatch(/\n\s+at /);
    }
    expect((await run(['missing.log'], scratch)).err).toBe('pacta lincheck: cannot read missing.log: no such file\n');
  });
});
