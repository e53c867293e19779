#!/usr/bin/env node
// The installed `pacta` command. It runs the compiled CLI in dist/ (`npm run build`, which
// `npm ci` runs through `prepare`): plain JavaScript, no TypeScript loader, a fast start.
//
// In a checkout whose TypeScript sources are newer than the build, or that has no build
// (`npm ci --ignore-scripts`, a failed build), it runs the sources through tsx instead: slower
// to start, never stale. It then also resolves the package's own name (a spec file's
// `import ... from 'pacta-check'`) to the sources, through the `pacta-source` export condition, so
// the spec and the CLI share one copy of the library.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from './build-state.mjs';

const root = new URL('../', import.meta.url);

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
    process.stderr.write(`pacta: ${fileURLToPath(entry)} is missing: run \`npm run build\` in the pacta folder.\n`);
    process.exit(2);
  }
  return import(entry.href);
}

// An installed package has no sources beside its build: it runs the build (or says it is missing).
const built = !existsSync(new URL('cli/main.ts', root)) || buildIsCurrent(root);
if (process.env.PACTA_DEBUG) process.stderr.write(`pacta: running ${built ? 'the build in dist/' : 'the TypeScript sources through tsx'}\n`);
const { main } = built ? await fromBuild() : await fromSources();
process.exitCode = await main(process.argv.slice(2));
