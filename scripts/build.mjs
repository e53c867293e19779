#!/usr/bin/env node
/**
 * `npm run build`: compiles the TypeScript sources (specs, checker, impl, traces, cli) to
 * JavaScript and declarations in dist/, then writes dist/.built, the stamp that cli/pacta.mjs
 * compares with the sources' times to decide whether the build is current.
 *
 * tsc runs with --noCheck: the build only emits (type errors are `npm run typecheck`'s job, and
 * CI runs it), so a type error never makes `npm ci` fail, and the build takes a third less time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = `${root}dist`;

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('pacta build: typescript is not installed; run `npm ci` (it installs the dev dependencies) first');
  process.exit(1);
}
// A clean output folder: a source file deleted or renamed leaves no stale module behind.
if (existsSync(dist)) rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`, '--noCheck'], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('pacta build: tsc failed (see above); dist/ is incomplete and the pacta command will run the sources');
  process.exit(r.status ?? 1);
}
writeFileSync(`${dist}/.built`, `${new Date().toISOString()}\n`);
