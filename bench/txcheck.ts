/**
 * Transaction checking at scale: generated list-append histories of 10k, 100k and 1M
 * transactions (Jepsen operations: one invoke and one completion each), serializable ones and
 * ones with planted G-single and G2 cycles (bench/txcheck-histories.ts), checked for
 * strict serializability with every anomaly searched (process and real-time edges included).
 * Prints per history: check wall and CPU seconds, heap and RSS after, edges, strongly connected
 * components; whether every planted cycle was found (with one explanation of each); and the
 * cost growth from the smallest to the largest size per transaction (1.0 = linear). Also the
 * time to read the EDN text of the two smaller sizes.
 *
 * `node --max-old-space-size=8192 --expose-gc --import tsx bench/txcheck.ts [--sizes 10000,100000,1000000] [--planted 10]`
 * (`npm run bench txcheck` runs it with the default heap, enough for 100k; pass --full there for 1M).
 * Timing on the shared 2-core machine is noisy: the load average is printed beside the figures,
 * and CPU seconds (this process only) are steadier than wall seconds under load.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { table } from '../cli/format.ts';
import { checkTransactions, type TransactionCheckResult } from '../checker/transactions/check-transactions.ts';
import { parseEdnTransactions } from '../checker/transactions/read-transactions.ts';
import { generateListAppend, toEdn } from './txcheck-histories.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, planted: { type: 'string', default: '10' }, full: { type: 'boolean' } } });
const sizes = (values.sizes ?? (values.full ? '10000,100000,1000000' : '10000,100000')).split(',').map(Number);
const planted = Number(values.planted);
const gc = (globalThis as { gc?: () => void }).gc;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

console.log(`load average at start: ${load()} (2 cores); node ${process.version}`);
// one warm-up check, so that the smallest size is not charged with compiling the checker
checkTransactions(generateListAppend({ transactions: 20_000, seed: 7, gSingle: 2, g2: 2 }), { model: 'strict-serializable' });
interface Row {
  size: number;
  kind: string;
  wall: number;
  cpu: number;
  result: TransactionCheckResult;
  heap: number;
  rss: number;
}
const rows: Row[] = [];
const explanations: string[] = [];
let allFound = true;
for (const size of sizes) {
  for (const kind of ['serializable', 'planted'] as const) {
    const history = generateListAppend({ transactions: size, seed: size, ...(kind === 'planted' ? { gSingle: planted, g2: planted } : {}) });
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = checkTransactions(history, { model: 'strict-serializable' });
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const mem = process.memoryUsage();
    rows.push({ size, kind, wall, cpu: (c.user + c.system) / 1e6, result, heap: mem.heapUsed, rss: mem.rss });
    if (kind === 'planted') {
      const gs = result.counts['G-single'] ?? 0;
      const g2 = result.counts['G2-item'] ?? 0;
      const ok = gs === planted && g2 === planted && result.anomalies.every((a) => a.type === 'G-single' || a.type === 'G2-item');
      allFound &&= ok;
      explanations.push(`${size}: planted ${planted} G-single and ${planted} G2; found G-single in ${gs} components, G2-item in ${g2}${ok ? '' : ' — MISMATCH'}`);
      if (size === sizes[sizes.length - 1]) for (const a of result.anomalies) explanations.push([`  ${a.description}`, ...a.explanation!.map((l) => `    ${l}`)].join('\n'));
    } else if (!result.valid || result.anomalies.length > 0) {
      allFound = false;
      explanations.push(`${size}: the serializable history shows ${result.anomalies.map((a) => a.type).join(', ')} — MISMATCH`);
    }
  }
}
console.log(
  table(
    ['transactions', 'history', 'check s (wall)', 'check s (CPU)', 'µs/txn (CPU)', 'edges', 'SCCs', 'heap MB', 'RSS MB', 'verdict'],
    rows.map((r) => [
      r.size.toLocaleString('en'),
      r.kind,
      r.wall.toFixed(2),
      r.cpu.toFixed(2),
      ((r.cpu * 1e6) / r.size).toFixed(1),
      r.result.graph.edges.toLocaleString('en'),
      String(r.result.graph.components),
      mb(r.heap),
      mb(r.rss),
      r.result.valid ? 'valid' : `invalid (${r.result.not.join(', ')})`,
    ]),
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  ),
);
if (sizes.length > 1) {
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  for (const kind of ['serializable', 'planted']) {
    const a = rows.find((r) => r.size === first && r.kind === kind)!;
    const b = rows.find((r) => r.size === last && r.kind === kind)!;
    console.log(
      `growth ${first.toLocaleString('en')} → ${last.toLocaleString('en')} (${kind}): time ×${(b.cpu / a.cpu).toFixed(1)} CPU, ×${(b.wall / a.wall).toFixed(1)} wall for ×${last / first} transactions; ` +
        `per-transaction cost ratio ${((b.cpu / last) / (a.cpu / first)).toFixed(2)} CPU, ${((b.wall / last) / (a.wall / first)).toFixed(2)} wall (1.00 = linear)`,
    );
  }
}
for (const size of sizes.filter((s) => s <= 100_000)) {
  const text = toEdn(generateListAppend({ transactions: size, seed: size }));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const h = parseEdnTransactions(text, `${size}.edn`);
  const c = process.cpuUsage(c0);
  console.log(`reading ${size.toLocaleString('en')} transactions of EDN (${mb(text.length)} MB, ${h.transactions.length} transactions): ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((c.user + c.system) / 1e6).toFixed(2)} s CPU`);
}
console.log(explanations.join('\n'));
console.log(`load average at end: ${load()}`);
if (!allFound) {
  console.error('some planted cycle was not found, or a serializable history showed an anomaly');
  process.exit(1);
}
