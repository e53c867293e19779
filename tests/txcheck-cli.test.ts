import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

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
const history = (transactions: unknown[]): string => JSON.stringify({ format: 'pacta-transactions', version: 1, transactions }, null, 1);

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

describe('pacta txcheck', () => {
  it('reports G2 with its cycle and exits 1 for serializability, 0 for snapshot isolation', async () => {
    const ser = await run([writeSkew]);
    expect(ser.code).toBe(1);
    expect(ser.out).toMatch(/serializable \(asked\)\s*│ violated/);
    expect(ser.out).toMatch(/snapshot-isolation\s*│ holds/);
    expect(ser.out).toContain('G2 (cycle of 2): T0 -rw-> T1 -rw-> T0');
    expect(ser.out).toContain('T0 read y = nil, T1 overwrote it with 1');
    expect((await run(['--model', 'snapshot-isolation', writeSkew])).code).toBe(0);
  });

  it('tells serializable from strict serializable, with --json', async () => {
    expect((await run(['--json', staleRead])).code).toBe(0);
    const strict = await run(['--json', '--model', 'strict-serializable', staleRead]);
    expect(strict.code).toBe(1);
    const result = JSON.parse(strict.out);
    expect(result).toMatchObject({ file: 'stale.edn', model: 'strict-serializable', valid: false, transactions: 2 });
    expect(result.models).toEqual({ 'snapshot-isolation': true, serializable: true, 'strict-serializable': false, 'external-consistency': false });
    expect(result.anomalies.map((a: { type: string }) => a.type)).toEqual(['G-single-realtime']);
    expect(result.anomalies[0].cycle.map((s: { type: string }) => s.type)).toEqual(['rt', 'rw']);
  });

  it('rejects malformed files with their line number, exit 2', async () => {
    const bad = write('bad.json', '{"format": "pacta-transactions", "version": 1, "transactions": [\n {"process": 0, "call": 0, "status": "committed",\n  "ops": [["r", "x"]]}\n]}\n');
    const r = await run([bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^pacta txcheck: bad\.json:3: transaction 0: operation 0: an operation is \[f, key, value\]/);
    const edn = await run([write('bad.edn', '{:type :invoke, :f :txn, :value [[:r :x nil]], :process 0}\n{:type :ok :f}\n')]);
    expect(edn.code).toBe(2);
    expect(edn.err).toMatch(/^pacta txcheck: bad\.edn:2: map opened here has an odd number of forms/);
  });

  it('rejects usage errors with exit 2 and no stack trace', async () => {
    for (const args of [['--bogus', writeSkew], ['--model', 'linearizable', writeSkew], [], [writeSkew, writeSkew], ['missing.json'], ['file.csv']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.startsWith('pacta txcheck: ')).toBe(true);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
