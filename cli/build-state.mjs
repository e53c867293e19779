// Whether the build in dist/ is current: the rule the `pacta` command (cli/pacta.mjs) uses to
// choose between the build and the sources, and `prepare` to skip a build that is current
// (npx installs a clone's folder into its cache on first use and runs `prepare` again).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders the build compiles. */
const sourceFolders = ['cli', 'specs', 'checker', 'impl', 'traces'];

/** The newest modification time of the TypeScript sources under `dir` (tests excluded). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * True when `root` (the package folder, a file: URL ending in /) holds a finished build
 * (dist/.built, written last) at least as new as every source file, or has no sources at all
 * (an installed package ships its build only).
 */
export function buildIsCurrent(root) {
  if (!existsSync(new URL('cli/main.ts', root))) return existsSync(new URL('dist/cli/main.js', root));
  let built;
  try {
    built = statSync(new URL('dist/.built', root)).mtimeMs;
  } catch {
    return false;
  }
  const base = fileURLToPath(root);
  return sourceFolders.every((d) => !existsSync(join(base, d)) || newestSource(join(base, d)) <= built);
}
