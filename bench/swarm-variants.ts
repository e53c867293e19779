/**
 * Swarm search over the whole catalogue: every bundled broken variant checked with `--mode random
 * --cluster` on 4 worker processes (their own redis-server on a free loopback port), with the
 * params and options its `expose` declares (the workers load the variant as a bare `pacta check`
 * does). Prints, per variant, whether the swarm found its violation, the seconds the search took
 * and the wall time (the coordinator's minimization and the process start included), which job
 * found it (a walk job's strategy, or a bounded DFS job's bound, seed and fault mix), the
 * minimized trace's length, and the walks and DFS states the swarm spent. The machine's load
 * average is printed with the table.
 *
 *   npx tsx --conditions=pacta-source bench/swarm-variants.ts [--time S] [--walks N] [--only SPEC[:VARIANT]]
 *
 * Liveness variants are judged by bounded walks (a suspicion; see docs/checking.md): only the
 * uniform walk jobs judge liveness, the PCT, swarm-mix and DFS jobs do not (their schedules are
 * not fair). Under the time bound (default 60 s a variant) a variant may not be found: the table
 * says so.
 */
import { loadavg } from 'node:os';
import { table } from '../cli/format.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import { startLocalCluster } from './local-cluster.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : d);
const walks = args.includes('--walks') ? ['--walks', opt('--walks', '')] : [];
const time = opt('--time', '60');
const only = args.includes('--only') ? opt('--only', '') : null;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const cluster = await startLocalCluster('bench/swarm-variants.ts', 4);
const { url, pacta, folder } = cluster;
const rows: string[][] = [];
let found = 0;
let total = 0;
const loadBefore = load();
try {
  for (const [name, entry] of Object.entries(bundledSpecs)) {
    if (only !== null && name !== only.split(':')[0]) continue;
    const protocol = await entry.load();
    for (const variant of Object.keys(protocol.variants ?? {})) {
      if (only?.includes(':') && `${name}:${variant}` !== only) continue;
      total++;
      const t0 = performance.now();
      const r = await pacta(['check', `${name}:${variant}`, '--mode', 'random', ...walks, '--time', time, '--cluster', url, '--workers', '4', '--json', '--out', folder]);
      const wall = (performance.now() - t0) / 1000;
      type Out = { result?: string; seconds?: number; walks?: number; violation?: { length: number | null }; cluster?: { dfsStates?: number; foundBy?: { strategy: string } } };
      let j: Out = {};
      try {
        j = JSON.parse(r.out) as Out;
      } catch {
        j = { result: `exit ${r.code}: ${r.err.split('\n')[0]}` };
      }
      const caught = r.code === 1;
      if (caught) found++;
      rows.push([
        `${name}:${variant}`,
        caught ? 'yes' : `NO (${j.result})`,
        (j.seconds ?? 0).toFixed(1),
        wall.toFixed(1),
        j.cluster?.foundBy?.strategy ?? '',
        j.violation?.length == null ? '' : String(j.violation.length),
        (j.walks ?? 0).toLocaleString('en-US'),
        (j.cluster?.dfsStates ?? 0).toLocaleString('en-US'),
      ]);
      console.error(rows[rows.length - 1]!.join('  '), ` (load ${load()})`);
    }
  }
} finally {
  cluster.stop();
}
console.log(`swarm of 4 worker processes, --time ${time}${walks.length ? ` --walks ${walks[1]}` : ''} a variant; load average ${loadBefore} before, ${load()} after`);
console.log(table(['variant', 'found', 'search s', 'wall s', 'found by', 'trace steps (minimized)', 'walks', 'DFS states'], rows));
console.log(`${found} of ${total} variants found`);
