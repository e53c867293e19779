/**
 * `npm run bench`: every benchmark in turn, each in its own process. Figures are ratios against
 * the anchors measured on this kind of machine (../shared/anchors). Pass `--full` for the large
 * configurations; pass names (explorer, lincheck, txcheck, network, random, executor, raft, startup, spanner,
 * cross-shard, commit-recovery, commit-tla, aurora, liveness) to run only some.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const all = ['explorer', 'random', 'lincheck', 'txcheck', 'network', 'executor', 'raft', 'percolator', 'startup', 'spanner', 'cross-shard', 'commit-recovery', 'commit-tla', 'aurora', 'liveness'];
const args = process.argv.slice(2);
const chosen = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
let failed = false;
for (const name of chosen.length ? chosen : all) {
  const file = resolve(repo, 'bench', `${name}.ts`);
  if (!existsSync(file)) {
    if (chosen.length) {
      console.error(`no benchmark '${name}' (have: ${all.filter((n) => existsSync(resolve(repo, 'bench', `${n}.ts`))).join(', ')})`);
      failed = true;
    }
    continue;
  }
  console.log(`\n== ${name}`);
  // On the sources, built or not: a bench that imports `pacta-check` by name (through a docs/examples program) gets them too.
  const r = spawnSync(process.execPath, ['--conditions=pacta-source', '--import', 'tsx', file, ...flags], { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
