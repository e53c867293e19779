/**
 * Trace files travel: a trace names its spec file relative to itself, with a content hash, so a
 * trace moved to another folder together with its spec replays, and a replay on an edited spec
 * says the spec changed. Runs of one variant under options that change the state space write
 * different files instead of overwriting each other's counterexample.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';

const repo = resolve(import.meta.dirname, '..');
let dir: string;

/** A user's package: the example spec, pacta installed as a link to this repo. */
function userPackage(at: string): void {
  mkdirSync(join(at, 'node_modules'), { recursive: true });
  symlinkSync(repo, join(at, 'node_modules', 'pacta-check'), 'dir');
  writeFileSync(join(at, 'package.json'), JSON.stringify({ name: 'my-protocols', private: true, type: 'module' }));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-portable-'));
  userPackage(join(dir, 'project'));
  cpSync(join(repo, 'docs', 'examples', 'own-protocol', 'counter.ts'), join(dir, 'project', 'counter.ts'));
});

async function run(cwd: string, ...argv: string[]) {
  const io = memoryIO(cwd);
  const code = await main(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const traceNames = (at: string) => readdirSync(at).sort();

describe('portable traces', () => {
  it('names the spec file relative to the trace, with its content hash', async () => {
    const project = join(dir, 'project');
    expect((await run(project, 'check', './counter.ts:unbounded')).code).toBe(1);
    const trace = JSON.parse(readFileSync(join(project, 'pacta-traces', 'counter.unbounded.bfs.violation.json'), 'utf8'));
    expect(trace.spec).toBe('../counter.ts');
    expect(trace.specHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a trace moved with its spec to another folder replays there; an edited spec is reported', async () => {
    const project = join(dir, 'project');
    expect((await run(project, 'check', './counter.ts:unbounded', '--out', 'traces')).code).toBe(1);
    // Another folder (another machine): the trace and the spec beside it, the original gone.
    const elsewhere = join(dir, 'elsewhere');
    userPackage(elsewhere);
    renameSync(join(project, 'traces', 'counter.unbounded.bfs.violation.json'), join(elsewhere, 'bug.json'));
    renameSync(join(project, 'counter.ts'), join(elsewhere, 'counter.ts'));
    rmSync(project, { recursive: true });
    const replayed = await run(elsewhere, 'replay', 'bug.json');
    expect(replayed.err).toBe('');
    expect(replayed.out).toMatch(/replays: all 4 steps/);
    expect(replayed.code).toBe(0);

    // An edit that keeps the behaviour: it still replays, and says the file changed.
    const spec = join(elsewhere, 'counter.ts');
    writeFileSync(spec, `${readFileSync(spec, 'utf8')}\n// edited\n`);
    const edited = await run(elsewhere, 'replay', 'bug.json');
    expect(edited.code).toBe(0);
    expect(edited.err).toMatch(/the spec file .*counter\.ts changed since the trace was written \(content hash [0-9a-f]{16}, now [0-9a-f]{16}\)/);

    // An edit that changes the behaviour: the divergence comes with the reason. (In a new
    // process: this one keeps the module it imported before the edit.)
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('do: (s) => s + 1', 'do: (s) => s + 2'));
    const diverged = spawnSync(process.execPath, [join(repo, 'cli', 'pacta.mjs'), 'replay', 'bug.json', '--json'], { cwd: elsewhere, encoding: 'utf8' });
    expect(diverged.status).toBe(1);
    expect(JSON.parse(diverged.stdout)).toMatchObject({ replayed: false, divergence: { step: 1 }, specChanged: true });
    expect(diverged.stderr).toMatch(/note: the spec file .*counter\.ts changed since the trace was written/);
  });

  it('a minimized trace written to another folder names the spec relative to that folder', async () => {
    const project = join(dir, 'project');
    await run(project, 'check', './counter.ts:unbounded', '--mode', 'random', '--seed', '3');
    const [file] = traceNames(join(project, 'pacta-traces'));
    mkdirSync(join(project, 'small', 'deeper'), { recursive: true });
    const min = await run(project, 'minimize', join('pacta-traces', file!), '-o', join('small', 'deeper', 'min.json'));
    expect(min.code).toBe(0);
    const trace = JSON.parse(readFileSync(join(project, 'small', 'deeper', 'min.json'), 'utf8'));
    expect(trace.spec).toBe('../../counter.ts');
    expect((await run(project, 'replay', join('small', 'deeper', 'min.json'))).code).toBe(0);
  });
});

describe('trace file names', () => {
  it('a bare check keeps the short name; options that change the state space add their hash', async () => {
    const project = join(dir, 'project');
    const variant = './counter.ts:unbounded';
    await run(project, 'check', variant);
    await run(project, 'check', variant, '--param', 'max=3'); // the default: the same space, the same file
    await run(project, 'check', variant, '--network', 'bag');
    await run(project, 'check', variant, '--symmetry');
    await run(project, 'check', variant, '--network', 'bag', '--workers', '1', '--max-states', '1000'); // limits do not change the space
    const names = traceNames(join(project, 'pacta-traces'));
    expect(names).toHaveLength(3);
    expect(names).toContain('counter.unbounded.bfs.violation.json');
    for (const n of names) expect(n).toMatch(/^counter\.unbounded\.bfs\.violation(\.[0-9a-f]{6})?\.json$/);
  });

  it('a random find and the command that reproduces it write the same file', async () => {
    const project = join(dir, 'project');
    const first = await run(project, 'check', './counter.ts:unbounded', '--mode', 'random', '--seed', '5', '--param', 'max=4', '--out', 'a');
    const reproduce = /reproduce with: npx pacta check (.*)$/m.exec(first.out)![1]!.split(' ');
    await run(project, 'check', ...reproduce.map((a) => (a === 'a' ? 'b' : a)));
    expect(traceNames(join(project, 'a'))).toEqual(traceNames(join(project, 'b')));
    expect(traceNames(join(project, 'a'))[0]).toMatch(/^counter\.unbounded\.random\.violation\.[0-9a-f]{6}\.json$/);
  });
});
