#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, which `npm ci` runs): compiles the TypeScript sources (specs,
 * checker, impl, traces, cli) to JavaScript and declarations in dist/, then writes dist/.built,
 * the stamp that cli/pacta.mjs compares with the sources' times to tell whether the build is
 * current (see there).
 *
 * tsc, not a bundler: one tool for the JavaScript and the declarations, one output module per
 * source module (stack traces and worker entry points stay where the sources say), and the
 * compiler the project already type-checks with. It runs with --noCheck: the build only emits
 * (type errors are `npm run typecheck`'s job, and CI runs it), so a type error never makes
 * `npm ci` fail, and the build takes less time.
 *
 * The build goes to a fresh folder that then replaces dist/: a `pacta` process running from
 * dist/ meanwhile (its commands, specs and workers load lazily) never sees a half-written
 * build, and a source file deleted or renamed leaves no module behind.
 *
 * `--if-stale` (what `prepare` runs) skips a build that is current: the first `npx pacta` in a
 * clone installs the folder into npx's cache, which runs `prepare` again right after `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIsCurrent } from '../cli/build-state.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = `${root}dist`;
const fresh = `${root}.dist-${process.pid}`;
const old = `${root}.dist-old-${process.pid}`;

if (process.argv.includes('--if-stale') && buildIsCurrent(new URL('../', import.meta.url))) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('pacta build: typescript is not installed; run `npm ci` (it installs the dev dependencies) first');
  process.exit(1);
}
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`, '--noCheck', '--outDir', fresh], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  console.error('pacta build: tsc failed (see above); dist/ is unchanged, and the pacta command runs the sources while it is older than them');
  process.exit(r.status ?? 1);
}
// `pacta list` from the build reads the bundled specs' listing from a file instead of importing
// all of them (see cli/commands/list.ts): computed here, by the build itself.
const listing = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(`${fresh}/cli/commands/list.js`).href)}); process.stdout.write(JSON.stringify(await m.listingRows()) + '\\n');`],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
if (listing.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  console.error('pacta build: listing the bundled specs failed (see above); dist/ is unchanged');
  process.exit(listing.status ?? 1);
}
writeFileSync(`${fresh}/specs/listing.json`, listing.stdout);
writeFileSync(`${fresh}/.built`, `${new Date().toISOString()}\n`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });
