/**
 * `--json` is a contract with scripts and CI: every command's real output validates against
 * docs/json-output.schema.json (fields pinned by `required` and `additionalProperties: false`),
 * and docs/cli.md documents every field of it. Renaming a field fails here.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main, version } from '../cli/main.ts';
import { validateJson } from './json-schema.ts';

const repo = resolve(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(repo, 'docs', 'json-output.schema.json'), 'utf8')) as Record<string, any>;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-json-'));
});

/** Runs a command with --json; returns its exit code and every JSON line it printed. */
async function json(...argv: string[]): Promise<{ code: number; out: any[] }> {
  const io = memoryIO(dir);
  const code = await main([...argv, '--json'], io);
  const lines = io.stdout.trim().split('\n');
  return { code, out: lines.map((l) => JSON.parse(l)) };
}

function expectValid(out: unknown, def?: string): void {
  expect(validateJson(out, schema), JSON.stringify(out).slice(0, 300)).toEqual([]);
  if (def) expect(validateJson(out, schema.$defs[def], schema), `as ${def}`).toEqual([]);
}

describe('--json output against docs/json-output.schema.json', () => {
  it('check: bfs ok, with the resolved options, version and the reproduce command', async () => {
    const { code, out: [r] } = await json('check', 'two-phase', '--param', 'rms=4', '--symmetry');
    expect(code).toBe(0);
    expectValid(r, 'check');
    expect(r).toMatchObject({ command: 'check', schemaVersion: 1, pactaVersion: version(), result: 'ok', seed: null, reproduce: 'npx pacta check two-phase --param rms=4 --symmetry' });
    expect(r.options).toMatchObject({ network: 'set', symmetry: true, crashes: 0, maxDepth: null });
    // 1,568 states without symmetry; fewer with it: under 1,000 bytes/state means nothing.
    expect(r.distinctStates).toBeLessThan(1000);
    expect(r).not.toHaveProperty('bytesPerState');
  });

  it('check: bytesPerState when an exhaustive run has enough states to make it mean something', async () => {
    const { out: [r] } = await json('check', 'two-phase', '--param', 'rms=5', '--no-liveness');
    expectValid(r, 'check');
    expect(r.distinctStates).toBeGreaterThanOrEqual(1000);
    expect(r.bytesPerState).toBeGreaterThan(0);
    expect(r.bytesPerState).toBeLessThan(1000);
  });

  it('check: bfs violation, dfs incomplete, deadlock, options of a variant exposure', async () => {
    const violation = await json('check', 'two-phase:commit-early', '--out', 'traces');
    expect(violation.code).toBe(1);
    expectValid(violation.out[0], 'check');
    expect(violation.out[0].violation).toMatchObject({ length: 3 });
    const volatile = await json('check', 'two-phase:volatile-rm', '--out', 'traces');
    expectValid(volatile.out[0], 'check');
    expect(volatile.out[0].options.crashes).toBe(1); // the variant's exposure, resolved
    const incomplete = await json('check', 'two-phase', '--mode', 'dfs', '--max-states', '10');
    expect(incomplete.code).toBe(3);
    expectValid(incomplete.out[0], 'check');
    expect(incomplete.out[0]).toMatchObject({ result: 'incomplete', reason: 'max-states', options: { maxStates: 10 } });
    const deadlock = await json('check', 'two-phase', '--deadlock', '--out', 'traces');
    expectValid(deadlock.out[0], 'check');
  });

  it('check: a random find gives seed, strategy and walk, and the command that re-runs that walk', async () => {
    const { code, out: [r] } = await json('check', 'two-phase:commit-early', '--mode', 'random', '--seed', '7', '--swarm', '--out', 'random');
    expect(code).toBe(1);
    expectValid(r, 'check');
    expect(r.seed).toBe(7);
    expect(r.options).toMatchObject({ seed: 7, strategy: 'uniform', swarm: true, walks: 1000, maxDepth: 100 });
    expect(r).not.toHaveProperty('bytesPerState');
    expect(r.reproduce).toBe(`npx pacta check two-phase:commit-early --mode random --swarm --out random --seed 7 --walk ${r.violation.walk}`);
  });

  it('replay (model, diverged, executor) and minimize', async () => {
    const trace = join('traces', 'two-phase.commit-early.bfs.violation.json');
    const ok = await json('replay', trace);
    expectValid(ok.out[0], 'replay');
    const bad = JSON.parse(readFileSync(join(dir, trace), 'utf8'));
    bad.steps[2].fingerprint = '0000000000000000';
    writeFileSync(join(dir, 'diverges.json'), JSON.stringify(bad));
    const diverged = await json('replay', 'diverges.json');
    expect(diverged.code).toBe(1);
    expectValid(diverged.out[0], 'replayDiverged');
    const executor = await json('replay', trace, '--executor');
    expect(executor.code).toBe(0);
    expectValid(executor.out[0], 'replayExecutor');
    const [random] = readdirSync(join(dir, 'random'));
    const min = await json('minimize', join('random', random!));
    expect(min.code).toBe(0);
    expectValid(min.out[0], 'minimize');
  });

  it('lincheck (one line per file), txcheck, list', async () => {
    const histories = join(repo, 'tests', 'fixtures', 'porcupine', 'jepsen');
    const lin = await json('lincheck', join(histories, 'etcd_000.log'), join(histories, 'etcd_001.log'), '--model', 'register');
    expect(lin.out).toHaveLength(2);
    for (const line of lin.out) expectValid(line, 'lincheck');
    writeFileSync(
      join(dir, 'skew.json'),
      JSON.stringify({
        format: 'pacta-transactions',
        version: 1,
        transactions: [
          { process: 0, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'x', 1]] },
          { process: 1, call: 0, return: 10, status: 'committed', ops: [['r', 'x', null], ['r', 'y', null], ['w', 'y', 1]] },
        ],
      }),
    );
    const tx = await json('txcheck', 'skew.json');
    expect(tx.code).toBe(1);
    expectValid(tx.out[0], 'txcheck');
    const list = await json('list');
    expectValid(list.out[0], 'list');
  });

  it('a usage error under --json prints {"error": ...} on stdout too, exit code unchanged', async () => {
    const cases: [string[], RegExp][] = [
      [['check', 'two-phase', '--mdoe', 'bfs'], /^Unknown option '--mdoe'\. Did you mean --mode\?$/],
      [['check', 'no-such-spec'], /^unknown spec 'no-such-spec'/],
      [['check', 'two-phase', '--param', 'nope=1'], /nope/],
      [['replay', 'missing.json'], /^trace file not found: missing\.json$/],
      [['lincheck', 'missing.log'], /missing\.log/],
      [['chekc'], /^unknown command 'chekc' \(did you mean 'check'\?\)$/],
    ];
    for (const [argv, message] of cases) {
      const io = memoryIO(dir);
      const code = await main([...argv, '--json'], io);
      expect(code, argv.join(' ')).toBe(2);
      expect(io.stderr).not.toBe('');
      const out = JSON.parse(io.stdout);
      expectValid(out, 'error');
      expect(out.error.kind).toBe('usage');
      expect(out.error.message).toMatch(message);
      expect(out.error.exitCode).toBe(2);
    }
  });
});

describe('docs/cli.md documents the JSON', () => {
  const doc = readFileSync(join(repo, 'docs', 'cli.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## JSON output'));
  it('has a JSON output section that links the schema', () => {
    expect(doc).toContain('## JSON output');
    expect(section).toContain('(json-output.schema.json)');
  });
  it('names every field of every command and of the resolved options', () => {
    const fields = new Set<string>();
    for (const def of ['check', 'checkOptions', 'replay', 'replayDiverged', 'replayExecutor', 'minimize', 'lincheck', 'txcheck', 'error']) {
      for (const k of Object.keys(schema.$defs[def].properties)) fields.add(k);
    }
    for (const k of Object.keys(schema.$defs.error.properties.error.properties)) fields.add(k);
    expect([...fields].filter((f) => !section.includes(`\`${f}\``))).toEqual([]);
  });
});
