/**
 * Linearizability checking at scale: generated etcd-style logs (bench/etcd-histories.ts, 10
 * processes, 15% of writes and cas ending `:info` as in Porcupine's etcd corpus) of 100k and 1M
 * operations, linearizable; and the same without `:info` operations and with one stale read
 * appended at the end (not linearizable: the search must get through the whole history first).
 * With thousands of `:info` writes pending at the end, that failure is a search over which of
 * them took effect, exponential for any Wing–Gong–Lowe checker (Porcupine's included), so the
 * stale case leaves them out. Each run is its own process, so peak memory is its own: reading
 * seconds, checking seconds, peak RSS.
 *
 *   npx tsx bench/lincheck-scale.ts [--sizes 100000,1000000]
 *
 * Measured 2026-12-07 on the 2-core machine at load ~18 (7 agents), from the sources (tsx),
 * branch bad-input after the windowed memo (a full bitset per memo entry took 968 MB for 61k
 * operations and was past 3 GB at 122k):
 *   operations  history                          result            read s  check s  peak RSS MB
 *   100,000     15% of writes and cas :info      linearizable        3.73     3.44     198
 *   100,002     no :info, stale read at the end  not-linearizable    5.69     8.40     200
 *   1,000,000   15% of writes and cas :info      linearizable       66.33    55.33    1328
 *   1,000,002   no :info, stale read at the end  not-linearizable   39.12    74.25    1373
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../cli/format.ts';
import { parseEtcdLog } from '../checker/history/etcd-log.ts';
import { checkLinearizability } from '../checker/linearizability/check-linearizability.ts';
import { registerModel } from '../specs/core/models/register.ts';
import { generateEtcdLog } from './etcd-histories.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100000,1000000' }, one: { type: 'string' }, stale: { type: 'boolean', default: false } } });

if (values.one) {
  // One measurement, in this process.
  const n = Number(values.one);
  let text = generateEtcdLog({ operations: n, seed: n, infoRate: values.stale ? 0 : 0.15 });
  if (values.stale) {
    const p = 1_000_000;
    text += `INFO  jepsen.util - ${p}\t:invoke\t:write\t7\nINFO  jepsen.util - ${p}\t:ok\t:write\t7\nINFO  jepsen.util - ${p}\t:invoke\t:read\tnil\nINFO  jepsen.util - ${p}\t:ok\t:read\t8\n`;
  }
  const t0 = performance.now();
  const history = parseEtcdLog(text, 'generated.log');
  text = '';
  const read = (performance.now() - t0) / 1000;
  const r = checkLinearizability(history, registerModel);
  console.log(JSON.stringify({ operations: r.operations, result: r.result, read, check: r.seconds, rssMB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows: string[][] = [];
  for (const size of values.sizes!.split(',').map(Number)) {
    for (const stale of [false, true]) {
      const out = execFileSync(process.execPath, [...process.execArgv, self, '--one', String(size), ...(stale ? ['--stale'] : [])], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').pop()!);
      rows.push([m.operations.toLocaleString('en'), stale ? 'no :info, stale read at the end' : '15% of writes and cas :info', m.result, m.read.toFixed(2), m.check.toFixed(2), String(Math.round(m.rssMB))]);
    }
  }
  console.log(table(['operations', 'history', 'result', 'read s', 'check s', 'peak RSS MB'], rows));
}
