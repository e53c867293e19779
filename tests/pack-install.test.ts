/**
 * The README's promise, walked as a user walks it: `npm pack` this project, install the tarball
 * into a package of its own in a temp folder outside the repository (a copy of
 * docs/examples/own-protocol/), and there import the library from plain Node (the compiled
 * JavaScript in dist/, no TypeScript loader) and run `npx pacta check` on a TypeScript spec that
 * imports the package by its name.
 *
 * Kept fast: `npm pack` runs `prepare`, which rebuilds dist/ only when it is older than the
 * sources; the install takes the dependencies from npm's cache (`--prefer-offline`, which
 * `npm ci` of this repository filled), and no audit or funding requests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LISTING_FILE, listingRows } from '../cli/commands/list.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir: string;
let user: string;

/** Runs a command in the user's package, as the user would; stdout, stderr and the exit code. */
function run(cmd: string, args: string[]) {
  // Out of this process's environment: vitest's NODE_OPTIONS and conditions must not reach the user's Node.
  const env = { ...process.env, NODE_OPTIONS: '', npm_config_update_notifier: 'false' };
  const r = spawnSync(cmd, args, { cwd: user, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-pack-'));
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', dir, ...quiet], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  user = join(dir, 'my-protocols');
  cpSync(join(repo, 'docs', 'examples', 'own-protocol'), user, { recursive: true });
  execFileSync(npm, ['install', tarball, '--prefer-offline', ...quiet], { cwd: user, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`${pkg.name}, packed and installed in a package of its own`, { timeout: 120_000 }, () => {
  it('installs by its name, with the pacta command, without its sources', () => {
    const installed = join(user, 'node_modules', pkg.name);
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).toMatchObject({ name: pkg.name, version: pkg.version });
    expect(() => readFileSync(join(installed, 'checker', 'check.ts'))).toThrow();
    const v = run('npx', ['--no-install', 'pacta', '--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toContain(pkg.version);
  });

  it('plain Node imports the compiled library and checks a JavaScript spec', () => {
    const r = run(process.execPath, ['check.mjs']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('ok: 8 distinct states');
  });

  it('`npx pacta check` on a TypeScript spec that imports the package by name', () => {
    const ok = run('npx', ['--no-install', 'pacta', 'check', './counter.ts', '--json']);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ spec: 'counter', result: 'ok', distinctStates: 16 });
    const bad = run('npx', ['--no-install', 'pacta', 'check', './counter.ts:unbounded', '--out', join(dir, 'traces')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/bounded/);
  });

  it('`npx pacta list` reads the listing the build wrote, equal to the one the sources compute', async () => {
    const installed = join(user, 'node_modules', pkg.name);
    expect(existsSync(join(installed, 'dist', LISTING_FILE))).toBe(true);
    const r = run('npx', ['--no-install', 'pacta', 'list', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(JSON.parse(JSON.stringify(await listingRows())));
  });
});
