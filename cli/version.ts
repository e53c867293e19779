/** The pacta version, for `pacta --version` and every `--json` output. */
import { readFileSync } from 'node:fs';

/**
 * The package's version, from its package.json: one folder up from cli/version.ts, two
 * from the build's dist/cli/version.js (the build does not copy package.json: a second one inside dist/
 * would become the package scope of the compiled modules).
 */
export function version(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.version && pkg.name) return pkg.version;
    } catch {
      // Not this folder: try the next one up.
    }
  }
  return 'unknown';
}
