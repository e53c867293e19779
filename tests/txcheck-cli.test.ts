import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';
import { CONSISTENCY_MODELS, MODEL_ALIASES, ANOMALIES } from '../checker/transactions/models.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pacta-txcheck-'));
const write = (name: string, text: string): string => {
  writeFileSync(join(scratch, name), text);
  return name;
};
const run = async (args: string[]) => {
  const io = memoryIO(scratch);
  const code = await main(['txcheck', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
};
const history = (transactions: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({ format: 'pacta-transactions', version: 1, ...extra, transactions }, null, 1);

// write skew: snapshot isolation allows it, serializability does not
const writeSkew = write(
  'write-skew.json',
  history([
    { process: 0, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'x', 1]] },
    { process: 1, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'y', 1]] },
  ]),
);
// a stale read after the write finished: serializable, not strictly
const staleRead = write(
  'stale.edn',
  [
    '{:type :invoke, :f :txn, :value [[:w :x 1]], :process 0}',
    '{:type :ok, :f :txn, :value [[:w :x 1]], :process 0}',
    '{:type :invoke, :f :txn, :value [[:r :x nil]], :process 1}',
    '{:type :ok, :f :txn, :value [[:r :x nil]], :process 1}',
  ].join('\n'),
);
// Elle's README example, list-append: G1c
const g1c = write(
  'g1c.edn',
  [
    '{:process 0, :type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]]}',
    '{:process 1, :type :invoke, :f :txn, :value [[:append :x 2] [:append :y 1]]}',
    '{:process 0, :type :ok, :f :txn, :value [[:append :x 1] [:r :y [1]]]}',
    '{:process 1, :type :ok, :f :txn, :value [[:append :x 2] [:append :y 1]]}',
    '{:process 2, :type :invoke, :f :txn, :value [[:r :x nil]]}',
    '{:process 2, :type :ok, :f :txn, :value [[:r :x [1 2]]]}',
  ].join('\n'),
);
// a read of a value nobody wrote: Elle's rw-register finds this valid
const fromNowhere = write('nowhere.edn', ['{:type :invoke, :f :txn, :value [[:r :x nil]], :process 0}', '{:type :ok, :f :txn, :value [[:r :x 5]], :process 0}'].join('\n'));

describe('pacta txcheck', () => {
  it('reports G2-item with its explanation; exits 1 for serializability, 0 for snapshot isolation', async () => {
    const ser = await run([writeSkew]);
    expect(ser.code).toBe(1);
    expect(ser.out).toContain('write-skew.json: rw-register, 2 transactions, 2 took effect');
    expect(ser.out).toMatch(/serializable \(PL-3\) \[asked\]\s*│ ruled out/);
    expect(ser.out).toMatch(/snapshot-isolation \(PL-SI\)\s*│ holds/);
    expect(ser.out).toContain('Ruled out: repeatable-read (and so serializable,');
    expect(ser.out).toContain('G2-item (cycle of 2): T0 -rw-> T1 -rw-> T0 [rules out repeatable-read]');
    expect(ser.out).toContain('  - T0 < T1, because T0 read y = nil, T1 overwrote it with 1 (the initial nil precedes every version)'.replace(' (the initial nil precedes every version)', '.'));
    expect(ser.out).toContain(': a contradiction!');
    expect((await run(['--model', 'snapshot-isolation', writeSkew])).code).toBe(0);
    expect((await run(['--model', 'PL-SI', '--model', 'read-committed', writeSkew])).code).toBe(0);
  });

  it('reads list-append EDN and explains Elle\'s G1c example', async () => {
    const r = await run(['--model', 'read-committed', g1c]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('g1c.edn: list-append, 3 transactions, 3 took effect');
    expect(r.out).toContain('G1c (cycle of 2): T0 -ww-> T1 -wr-> T0 [rules out read-committed]');
    expect(r.out).toContain("T1 appended 2 to x right after T0's 1");
    expect(r.out).toContain("T0 read y = [1], which ends with T1's append of 1");
    expect((await run(['--model', 'read-uncommitted', g1c])).code).toBe(0);
  });

  it('tells serializable from strict serializable, with --json', async () => {
    expect((await run(['--json', staleRead])).code).toBe(0);
    const strict = await run(['--json', '--model', 'strict-serializable', staleRead]);
    expect(strict.code).toBe(1);
    const result = JSON.parse(strict.out);
    expect(result).toMatchObject({ file: 'stale.edn', workload: 'rw-register', model: 'strict-serializable', valid: false, transactions: 2, not: ['strong-snapshot-isolation'] });
    expect(result.models.serializable).toBe(true);
    expect(result.models['strict-serializable']).toBe(false);
    expect(result.anomalies.map((a: { type: string }) => a.type)).toEqual(['G-single-realtime']);
    expect(result.anomalies[0].cycle.map((s: { type: string }) => s.type)).toEqual(['realtime', 'rw']);
    expect(result.anomalies[0].explanation[0]).toBe('Let:');
    expect(result.anomalies[0].not).toEqual(['strong-snapshot-isolation']);
  });

  it('follows Elle on a read of a value nobody wrote, and reports it as garbage under --initial-state empty', async () => {
    const elle = await run(['--model', 'strict-serializable', fromNowhere]);
    expect(elle.code).toBe(0);
    expect(elle.out).toContain('No anomalies found.');
    const empty = await run(['--initial-state', 'empty', fromNowhere]);
    expect(empty.code).toBe(1);
    expect(empty.out).toContain('garbage-read: T0 read x = 5, which no transaction wrote (keys start nil) [rules out read-committed]');
  });

  it('looks only for the anomalies asked with --anomalies', async () => {
    const r = await run(['--anomalies', 'G1c,G-single', writeSkew]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('looking for G1c, G-single');
    expect(r.out).toMatch(/serializable \(PL-3\)\s*│ not ruled out \(not fully checked\)/);
    expect((await run(['--anomalies', 'G2', writeSkew])).code).toBe(1);
    expect((await run(['--anomalies', 'G2-item', '--anomalies', 'lost-update', writeSkew])).code).toBe(1);
  });

  it('writes a DOT file per cycle anomaly', async () => {
    const r = await run(['--dot', 'dots', g1c]);
    expect(r.code).toBe(1);
    const dot = readFileSync(join(scratch, 'dots', 'G1c.dot'), 'utf8');
    expect(dot).toMatch(/^digraph "g1c\.edn: G1c" \{/);
    expect(dot).toContain('T0 -> T1 [label="ww x"');
    expect(dot).toContain('T1 -> T0 [label="wr y"');
  });

  it('accepts every documented model and anomaly name', async () => {
    for (const m of [...CONSISTENCY_MODELS, ...Object.keys(MODEL_ALIASES)]) expect((await run(['--model', m, g1c])).code, m).not.toBe(2);
    for (const a of [...ANOMALIES, 'G1', 'G2', 'G-single-item', 'G-nonadjacent-item-process']) expect((await run(['--anomalies', a, g1c])).code, a).not.toBe(2);
    const docs = readFileSync(join(import.meta.dirname, '..', 'docs', 'history-checkers.md'), 'utf8');
    for (const name of [...CONSISTENCY_MODELS, ...Object.keys(MODEL_ALIASES), ...ANOMALIES, 'G1', 'G2']) expect(docs, name).toContain(`\`${name}\``);
  });

  it('rejects malformed files with their line number, exit 2', async () => {
    const bad = write('bad.json', '{"format": "pacta-transactions", "version": 1, "transactions": [\n {"process": 0, "call": 0, "status": "committed",\n  "ops": [["r", "x"]]}\n]}\n');
    const r = await run([bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^pacta txcheck: bad\.json:3: transaction 0: operation 0: an operation is \[f, key, value\]/);
    const edn = await run([write('bad.edn', '{:type :invoke, :f :txn, :value [[:r :x nil]], :process 0}\n{:type :ok :f}\n')]);
    expect(edn.code).toBe(2);
    expect(edn.err).toMatch(/^pacta txcheck: bad\.edn:2: map opened here has an odd number of forms/);
    const mixed = await run([write('mixed.edn', '{:type :invoke, :f :txn, :value [[:w :x 1]], :process 0}\n{:type :ok, :f :txn, :value [[:w :x 1]], :process 0}\n{:type :invoke, :f :txn, :value [[:append :y 1]], :process 1}\n{:type :ok, :f :txn, :value [[:append :y 1]], :process 1}\n')]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toBe('pacta txcheck: mixed.edn:3: mixed workloads: [append ...] (T1) is list-append, but [w ...] (T0) on line 1 is rw-register\n');
    const wrong = await run(['--workload', 'list-append', writeSkew]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/^pacta txcheck: write-skew\.json:\d+: a read of a single value|^pacta txcheck: write-skew\.json:\d+: \[w \.\.\.\] \(T0\) belongs to the rw-register workload, not list-append\n$/);
  });

  it('rejects usage errors with one line, exit 2 and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--bogus', writeSkew], /Unknown option '--bogus'/],
      [['--model', 'linearizable', writeSkew], /^pacta txcheck: unknown model "linearizable"; known: read-uncommitted, .*PL-SS, strong-serializable\n$/],
      [['--anomalies', 'G1c,G9', writeSkew], /^pacta txcheck: unknown anomaly "G9"; known: .*\n$/],
      [['--workload', 'bank', writeSkew], /^pacta txcheck: --workload expects list-append or rw-register, got 'bank'\n$/],
      [['--initial-state', 'zero', writeSkew], /^pacta txcheck: --initial-state expects empty or unknown, got 'zero'\n$/],
      [[], /expected one history file, got 0/],
      [[writeSkew, writeSkew], /expected one history file, got 2/],
      [['missing.json'], /^pacta txcheck: cannot read missing\.json: no such file\n$/],
      [['file.csv'], /cannot tell the format of file\.csv/],
      [['--dot', 'write-skew.json/x', writeSkew], /^pacta txcheck: cannot write DOT files to write-skew\.json\/x: (ENOTDIR|EEXIST)\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
