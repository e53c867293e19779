#!/usr/bin/env node
// The installed `pacta` command. It runs the compiled CLI in dist/ (`npm run build`, which
// `npm ci` runs through `prepare`): plain JavaScript, no TypeScript loader, a fast start.
//
// In a checkout whose TypeScript sources are newer than the build, or that has no build
// (`npm ci --ignore-scripts`, a failed build), it runs the sources through tsx instead: slower
// to start, never stale. It then also resolves the package's own name (a spec file's
// `import ... from 'pacta'`) to the sources, through the `pacta-source` export condition, so
// the spec and the CLI share one copy of the library.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const sourceFolders = ['cli', 'specs', 'checker', 'impl', 'traces'];

/** The newest modification time of the sources the build compiles (tests excluded). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** True when dist/ holds a finished build at least as new as every source file. */
function buildIsCurrent() {
  let built;
  try {
    built = statSync(new URL('dist/.built', root)).mtimeMs;
  } catch {
    return false;
  }
  const base = decodeURIComponent(root.pathname);
  return sourceFolders.every((d) => !existsSync(base + d) || newestSource(base + d) <= built);
}

async function fromSources() {
  try {
    const { registerSourceLoader } = await import('../checker/source-loader.mjs');
    registerSourceLoader();
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    process.stderr.write('pacta: the build in dist/ is missing or older than the sources, and tsx (to run the sources) is not installed.\nRun `npm run build` in the pacta folder (`npm ci` runs it, unless given --ignore-scripts).\n');
    process.exit(2);
  }
  if (process.stderr.isTTY) process.stderr.write('pacta: running the TypeScript sources (dist/ is missing or older than them; `npm run build` starts faster)\n');
  return import(new URL('cli/main.ts', root).href);
}

async function fromBuild() {
  const entry = new URL('dist/cli/main.js', root);
  if (!existsSync(entry)) {
    process.stderr.write(`pacta: ${decodeURIComponent(entry.pathname)} is missing: run \`npm run build\` in the pacta folder.\n`);
    process.exit(2);
  }
  return import(entry.href);
}

// An installed package has no sources beside its build: nothing to compare.
const built = !existsSync(new URL('cli/main.ts', root)) || buildIsCurrent();
if (process.env.PACTA_DEBUG) process.stderr.write(`pacta: running ${built ? 'the build in dist/' : 'the TypeScript sources through tsx'}\n`);
const { main } = built ? await fromBuild() : await fromSources();
process.exitCode = await main(process.argv.slice(2));
