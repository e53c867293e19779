/**
 * Swarm random search over the whole catalogue: every bundled broken variant checked with
 * `--mode random --cluster` on 4 worker processes (their own redis-server on a free loopback
 * port), with the params and options its `expose` declares. Prints, per variant, whether the
 * swarm found its violation, the minimized trace's length, the walks it took and the time.
 *
 *   npx tsx --conditions=pacta-source bench/swarm-variants.ts [--walks N] [--time S] [--only SPEC]
 *
 * Liveness variants are judged by bounded walks (a suspicion; see docs/checking.md), and the
 * swarm's PCT and swarm-mix jobs do not judge liveness at all (their schedules are not fair): such
 * a variant is found only by the uniform jobs. Under the time bound (default 60 s a variant) a
 * variant whose bug needs a long, precise schedule may not be found: the table says so.
 */
import { table } from '../cli/format.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import { startLocalCluster } from './local-cluster.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : d);
const walks = opt('--walks', '100000');
const time = opt('--time', '60');
const only = args.includes('--only') ? opt('--only', '') : null;
const cluster = await startLocalCluster('bench/swarm-variants.ts', 4);
const { url, pacta, folder } = cluster;
const rows: string[][] = [];
let found = 0;
let total = 0;
try {
  for (const [name, entry] of Object.entries(bundledSpecs)) {
    if (only !== null && name !== only) continue;
    const protocol = await entry.load();
    for (const variant of Object.keys(protocol.variants ?? {})) {
      total++;
      const r = await pacta(['check', `${name}:${variant}`, '--mode', 'random', '--walks', walks, '--time', time, '--cluster', url, '--workers', '4', '--json', '--out', folder]);
      let j: { result?: string; seconds?: number; walks?: number; violation?: { length: number | null; property: string } } = {};
      try {
        j = JSON.parse(r.out);
      } catch {
        j = { result: `exit ${r.code}: ${r.err.split('\n')[0]}` };
      }
      const caught = r.code === 1;
      if (caught) found++;
      rows.push([`${name}:${variant}`, caught ? 'found' : `NOT found (${j.result})`, j.violation?.length == null ? '' : String(j.violation.length), (j.walks ?? 0).toLocaleString('en-US'), (j.seconds ?? 0).toFixed(1)]);
      console.error(rows[rows.length - 1]!.join('  '));
    }
  }
} finally {
  cluster.stop();
}
console.log(table(['variant', 'swarm (4 workers)', 'trace steps (minimized)', 'walks', 'seconds'], rows));
console.log(`${found} of ${total} variants found`);
