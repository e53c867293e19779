/**
 * The `pacta` CLI as users meet it: bundled specs, user spec files by path (outside the repo,
 * importing `pacta-check` as a package), broken variants, --json, exit codes, and bad input that must
 * give a clear message, never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

const repo = resolve(import.meta.dirname, '..');
let dir: string;

/** A user's project: its own folder with pacta installed (a link to this repo). */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-user-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repo, join(dir, 'node_modules', 'pacta-check'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-protocols', private: true, type: 'module' }));
  mkdirSync(join(dir, 'legacy'));
  writeFileSync(join(dir, 'legacy', 'package.json'), JSON.stringify({ name: 'legacy', private: true }));
  writeFileSync(
    join(dir, 'counter.ts'),
    `import { protocol, t, invariant, reachable } from 'pacta-check';
/** Two counters that each count up to a bound; a bounded counter is the smallest spec there is. */
const spec = protocol({ name: 'counter', params: { max: 3 }, messages: t.union('kind', { bump: {} }) });
const counter = spec.role(t.u32)({
  count: 2,
  init: () => 0,
  onMessage: (s) => s,
  actions: { inc: { when: (s, ctx) => s < ctx.params.max, do: (s) => s + 1 } },
});
export default spec.define({
  roles: { counter },
  properties: (p) => [
    invariant('bounded', (w) => w.all('counter', (s: number) => s <= p.max)),
    reachable('both at max', (w) => w.all('counter', p.max)),
  ],
  variants: { unbounded: { roles: { counter: { actions: { inc: { when: (s: number) => s < 5 } } } } } },
});
`,
  );
  writeFileSync(join(dir, 'syntax-error.ts'), `import { t } from 'pacta-check';\nexport default {{ oops\n`);
  writeFileSync(join(dir, 'no-default.ts'), `export const x = 1;\n`);
  writeFileSync(
    join(dir, 'throws.ts'),
    `import { protocol, t } from 'pacta-check';
const spec = protocol({ name: 'throws', params: {}, messages: t.union('kind', { m: {} }) });
const n = spec.role(t.u32)({ count: 1, init: () => 0, actions: { go: { do: (s) => { if (s === 2) throw new Error('boom at two'); return s + 1; } } } });
export default spec.define({ roles: { n } });
`,
  );
  writeFileSync(
    join(dir, 'bad-state.ts'),
    `import { protocol, t } from 'pacta-check';
const spec = protocol({ name: 'bad-state', params: {}, messages: t.union('kind', { m: {} }) });
const n = spec.role(t.u32)({ count: 1, init: () => 0, actions: { go: { when: (s) => s === 0, do: () => -1 } } });
export default spec.define({ roles: { n } });
`,
  );
});

async function run(...argv: string[]) {
  const io = memoryIO(dir);
  const code = await main(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('pacta check', { timeout: 180_000 }, () => {
  it('checks a bundled spec and prints a summary table', async () => {
    const r = await run('check', 'two-phase');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ok: every property holds/);
    expect(r.out).toMatch(/distinct states\s*│\s*288/);
  });

  it('--json on a broken variant: exit 1, the property, a trace file, the shortest length', async () => {
    const r = await run('check', 'two-phase:commit-early', '--json', '--out', 'traces-out');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({
      spec: 'two-phase', variant: 'commit-early', mode: 'bfs', result: 'violation',
      violation: { property: 'consistent: no RM committed while another aborted', length: 3 },
    });
    for (const k of ['distinctStates', 'statesGenerated', 'depth', 'seconds', 'statesPerSecond']) expect(typeof report[k]).toBe('number');
    // 43 states: bytes per state would measure the table's starting size, so it is left out.
    expect(report).not.toHaveProperty('bytesPerState');
    const trace = JSON.parse(readFileSync(report.violation.traceFile, 'utf8'));
    expect(trace).toMatchObject({ format: 'pacta-trace', version: 1, spec: 'two-phase', variant: 'commit-early', result: 'violation' });
    expect(trace.steps).toHaveLength(4);
  });

  it('prints the trace as text and the command that reproduces it', async () => {
    const r = await run('check', 'two-phase:commit-early', '--param', 'rms=4', '--out', 'traces-out');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/tm: commit/);
    expect(r.out).toMatch(/reproduce with: npx pacta check two-phase:commit-early --param rms=4/);
  });

  it('checks a user spec file outside the repo by path, with params and variants', async () => {
    const ok = await run('check', './counter.ts', '--param', 'max=4', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ spec: 'counter', result: 'ok', distinctStates: 25 });
    const bad = await run('check', join(dir, 'counter.ts') + ':unbounded', '--json', '--out', 'traces-out');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).violation.length).toBe(4);
  });

  it('off a terminal, prints a progress line to stderr every --progress-every seconds (10 by default)', async () => {
    // memoryIO is not a terminal, as a CI log is not. A short interval keeps the test short.
    const r = await run('check', 'two-phase', '--param', 'rms=6', '--progress-every', '0.2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ result: 'ok', distinctStates: 50_816 });
    const lines = r.err.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^pacta: \d+ s · [\d,]+ distinct states · [\d,]+ generated · [\d,]+\/s · depth \d+ · queue [\d,]+$/);
    expect(r.err).not.toMatch(/\r|\x1b/);
    const quiet = await run('check', 'two-phase', '--param', 'rms=5', '--progress-every', '0');
    expect(quiet.err).toBe('');
    expect((await run('check', 'two-phase', '--progress-every', 'often')).code).toBe(2);
  });

  it('limits give exit 3', async () => {
    const r = await run('check', 'two-phase', '--max-states', '50', '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toMatchObject({ result: 'incomplete', reason: 'max-states' });
    const d = await run('check', 'two-phase', '--max-depth', '3', '--json');
    expect(JSON.parse(d.out)).toMatchObject({ result: 'incomplete', reason: 'max-depth' });
  });

  it('a handler that throws: exit 4 with the node, the handler and the message, plus a trace', async () => {
    const r = await run('check', './throws.ts', '--out', 'traces-out');
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/ERROR in spec code/);
    expect(r.out).toMatch(/n \(n\.go\) threw: boom at two/);
    expect(r.out).toMatch(/n: go/);
    expect(r.err).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('a state that does not fit its schema is an error naming the field', async () => {
    const r = await run('check', './bad-state.ts', '--json', '--out', 'traces-out');
    expect(r.code).toBe(4);
    expect(JSON.parse(r.out).error.message).toMatch(/state that does not fit its schema: expected u32, got -1 at n.state/);
  });

  const badInput: [string, string[], RegExp][] = [
    ['a syntax error', ['check', './syntax-error.ts'], /cannot load spec file .*syntax-error\.ts/],
    ['no default export', ['check', './no-default.ts'], /has no default export/],
    ['a missing file', ['check', './nope.ts'], /spec file not found/],
    ['an unknown bundled spec', ['check', 'three-phase'], /unknown spec 'three-phase'/],
    ['an unknown variant', ['check', 'two-phase:nope'], /has no variant 'nope' \(variants: commit-early/],
    ['an unknown param', ['check', 'two-phase', '--param', 'x=1'], /has no param 'x' \(params: rms\)/],
    ['a param of the wrong type', ['check', 'two-phase', '--param', 'rms=lots'], /param 'rms' must be a number/],
    ['an unknown option', ['check', 'two-phase', '--fast'], /Unknown option '--fast'/],
    ['a bad network', ['check', 'two-phase', '--network', 'tcp'], /option 'network' must be set, bag or fifo/],
    ['drop on a set network', ['check', 'two-phase', '--drop'], /need network 'bag' or 'fifo'/],
    ['a bad number', ['check', 'two-phase', '--max-depth', 'ten'], /--max-depth expects an integer/],
    ['no spec', ['check'], /expected one spec, got none/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'\n/],
    ['a misspelt flag', ['check', 'two-phase', '--mdoe', 'dfs'], /Unknown option '--mdoe'\. Did you mean --mode\?/],
    ['a misspelt flag with swapped letters', ['check', 'two-phase', '--netwrok', 'bag'], /Did you mean --network\?/],
    ['a misspelt flag of another command', ['lincheck', '--modle', 'kv'], /Did you mean --model\?/],
    ['a misspelt command', ['chek', 'two-phase'], /unknown command 'chek' \(did you mean 'check'\?\)/],
    ['help on an unknown command', ['help', 'frobnicate'], /unknown command 'frobnicate'/],
    ['a command named like an Object property (found by the fuzz test)', ['constructor'], /unknown command 'constructor'\n/],
    ['an empty command word before arguments (found by the fuzz test)', ['', 'bfs'], /unknown command ''\n/],
  ];
  for (const [what, argv, message] of badInput) {
    it(`${what}: exit 2 and a clear message`, async () => {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
});

describe('pacta list', { timeout: 180_000 }, () => {
  it('lists bundled specs with params and variants', async () => {
    const r = await run('list', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toContainEqual(expect.objectContaining({ name: 'two-phase', params: { rms: 3 }, variants: expect.arrayContaining(['commit-early']) }));
  });
  it('fits a 100-column terminal, every spec and variant named', async () => {
    const r = await run('list');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter((l) => [...l].length > 100)).toEqual([]);
    expect(r.out).toMatch(/^two-phase\s/m);
    expect(r.out).toContain('two-phase:commit-early');
  });
});

describe('pacta help', { timeout: 180_000 }, () => {
  it('pacta help <command> prints that command\'s usage, as <command> --help does', async () => {
    for (const command of ['check', 'show', 'replay', 'minimize', 'run', 'lincheck', 'txcheck', 'list']) {
      const r = await run('help', command);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: pacta ${command}\\b`));
      expect(r.out).toBe((await run(command, '--help')).out);
    }
  });
  it('a bare pacta help lists the commands', async () => {
    const r = await run('help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: pacta <command>/);
    expect(r.out).toMatch(/pacta help <command>/);
  });
});

describe('pacta --version', { timeout: 180_000 }, () => {
  it('prints the version in package.json, as --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${version}\n`);
    }
  });
});

/** Whether the installed command runs the build (current) or the sources (it says so under PACTA_DEBUG). */
function runsTheBuild(): boolean {
  const r = spawnSync(process.execPath, [join(repo, 'cli', 'pacta.mjs'), '--version'], { encoding: 'utf8', env: { ...process.env, PACTA_DEBUG: '1' } });
  return /running the build/.test(r.stderr);
}

describe('the installed command (a real process)', { timeout: 180_000 }, () => {
  const bin = join(repo, 'cli', 'pacta.mjs');
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

  it('pacta --version', () => {
    const r = spawnSync(process.execPath, [bin, '--version'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  // On a clean clone `npm ci` builds dist/ (prepare), and CI runs this: the command runs plain
  // JavaScript, never tsx; esbuild loads only with a user's TypeScript spec (to compile it). A
  // resolve hook given to node makes every import of the packages named fail, workers included.
  it.skipIf(!runsTheBuild())('from a current build, the command needs no tsx, and esbuild only for a .ts spec', () => {
    const refusing = (...names: string[]) => {
      const hook = `export async function resolve(s, c, next) { if (${JSON.stringify(names)}.some((n) => s === n || s.startsWith(n + '/'))) throw new Error('refused: ' + s); return next(s, c); }`;
      const preload = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
      return (...args: string[]) => spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, bin, ...args], { cwd: dir, encoding: 'utf8' });
    };
    const plain = refusing('tsx', 'esbuild');
    for (const args of [['--version'], ['list'], ['check', 'two-phase', '--mode', 'random', '--workers', '2', '--walks', '40']]) {
      const r = plain(...args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    // The control: a user's TypeScript spec takes esbuild, and without it the message says so.
    expect(plain('check', 'counter.ts').stderr).toMatch(/loading a TypeScript spec takes esbuild/);
    // ... and never tsx, on the main thread or in the workers.
    const r = refusing('tsx')('check', 'counter.ts', '--mode', 'random', '--workers', '2', '--walks', '40', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ spec: 'counter', result: 'ok' });
  });

  // A spec that imports pacta's sources by path (`../specs/core/index.ts`, as bundled specs and
  // this repository's test specs do) must run on the library the command runs, not on a second
  // copy, whose schemas the first would not recognize. Its workers load it the same way.
  it('a spec importing pacta\'s sources by path runs, on the main thread and on worker threads', () => {
    const spec = join(repo, 'tests', 'executor-primary-backup.ts');
    const r = spawnSync(process.execPath, [bin, 'check', spec, '--json', '--mode', 'random', '--workers', '2', '--walks', '20'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ spec: 'primary-backup', result: 'ok', walks: 20 });
  });

  it('parallel random walks load a user .ts spec in each worker thread', () => {
    const r = spawnSync(process.execPath, [bin, 'check', 'counter.ts:unbounded', '--mode', 'random', '--workers', '2', '--seed', '3', '--json', '--out', 'traces-out'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ spec: 'counter', variant: 'unbounded', result: 'violation' });
  });

  it('npx pacta check two-phase prints a result and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, 'check', 'two-phase'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/two-phase rms=3 \(bfs\): ok/);
  });

  it('a syntax error in a user spec gives exit 2 and no stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'check', './syntax-error.ts'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot load spec file .*syntax-error\.ts:[\s\S]*syntax-error\.ts:2:\d+: ERROR: Expected identifier/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a user spec importing pacta by package name runs under the real loader', () => {
    const r = spawnSync(process.execPath, [bin, 'check', 'counter.ts', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).distinctStates).toBe(16);
  });

  it('a spec in a CommonJS package gets a hint instead of a loader riddle', () => {
    writeFileSync(join(dir, 'legacy', 'counter.ts'), readFileSync(join(dir, 'counter.ts')));
    const r = spawnSync(process.execPath, [bin, 'check', 'legacy/counter.ts'], { cwd: dir, encoding: 'utf8' });
    if (r.status === 0) return; // a loader that handles it is fine too
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/hint: the file was loaded as CommonJS/);
  });
});
