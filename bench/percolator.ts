/**
 * Percolator figures, measured side by side in one run:
 *
 * 1. State counts and times of the TLA+-shaped specs against TLC on pingcap's models
 *    (../shared/anchors/tlc/specs/pingcap): Percolator Test2 and OptimizedCommitTS Test2 (2
 *    clients, 2 keys), and Percolator Test1 (3 clients sharing primary key 1, 3 keys, SYMMETRY
 *    Permutations(Client), pacta's `--symmetry`). Each tool runs in its own process, one after
 *    the other, with the same number of workers; wall times include start-up (JVM, tsx). The
 *    counts must be equal; the ratio is pacta's time over TLC's.
 * 2. The bank on the executor (docs/examples/percolator-cluster.ts): committed transactions per
 *    second and commit latency (p50, p99) for 2PC, async commit and 1PC, without faults, on the
 *    memory transport, with fdatasync'd logs and without.
 *
 *   npx tsx --conditions=pacta-source bench/percolator.ts                  (Test2s, the bank: about a minute)
 *   npx tsx --conditions=pacta-source bench/percolator.ts --full           (adds Test1: minutes for each tool)
 *   npx tsx --conditions=pacta-source bench/percolator.ts --workers 2      (both tools with 2 workers; default 1)
 *   npx tsx --conditions=pacta-source bench/percolator.ts --no-tlc         (pacta only)
 *
 * The machine is shared: the load average is printed beside the figures; compare ratios
 * measured in the same run, not absolute times across runs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { num, table } from '../cli/format.ts';
import { main as bank } from '../docs/examples/percolator-cluster.ts';

const args = process.argv.slice(2);
const full = args.includes('--full');
const noTlc = args.includes('--no-tlc');
const workersAt = args.indexOf('--workers');
const workers = workersAt >= 0 ? Number(args[workersAt + 1]) : 1;
const repo = resolve(import.meta.dirname, '..');
const anchors = resolve(repo, '..', '..', 'shared', 'anchors', 'tlc');
const anchorDir = existsSync(anchors) ? anchors : '/work/shared/anchors/tlc';
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

interface Model {
  name: string;
  tlcDir: string;
  tlcSpec: string;
  tlcCfg: string;
  pacta: string[];
}

const models: Model[] = [
  { name: 'Percolator Test2', tlcDir: 'Percolator', tlcSpec: 'Test2.tla', tlcCfg: 'Test2.cfg', pacta: ['percolator-tla'] },
  { name: 'OptimizedCommitTS Test2', tlcDir: 'OptimizedCommitTS', tlcSpec: 'Test2.tla', tlcCfg: 'Test2.cfg', pacta: ['optimized-commit-ts-tla'] },
  ...(full
    ? [{
      name: 'Percolator Test1 (symmetry)', tlcDir: 'Percolator', tlcSpec: 'Test1.tla', tlcCfg: 'Test1.cfg',
      pacta: ['percolator-tla', '--param', 'clients=3', '--param', 'keys=3', '--param', 'primaries=1,1,1', '--symmetry'],
    }]
    : []),
];

interface Measured {
  distinct: number;
  depth: number;
  wall: number;
}

function runTlc(m: Model): Measured | undefined {
  // TLC writes a trace module beside the spec on a violation: run on a copy.
  const dir = mkdtempSync(join(tmpdir(), 'pacta-bench-tlc-'));
  cpSync(join(anchorDir, 'specs', 'pingcap', m.tlcDir), dir, { recursive: true });
  const t0 = performance.now();
  const r = spawnSync(join(anchorDir, 'run-tlc.sh'), [dir, m.tlcSpec, m.tlcCfg, String(workers)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  const out = `${r.stdout}${r.stderr}`;
  const found = /([\d,]+) states generated, ([\d,]+) distinct states found/.exec(out);
  const depth = /depth of the complete state graph search is (\d+)/.exec(out);
  if (!found) {
    console.error(`TLC on ${m.name} did not report its counts:\n${out.slice(-2000)}`);
    return undefined;
  }
  return { distinct: Number(found[2]!.replace(/,/g, '')), depth: depth ? Number(depth[1]) : 0, wall };
}

function runPacta(m: Model): Measured {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['cli/pacta.mjs', 'check', ...m.pacta, '--json', '--workers', String(workers)], {
    cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - t0) / 1000;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let report: { result: string; distinctStates: number; depth: number };
  try {
    report = JSON.parse(line);
  } catch {
    console.error(`pacta on ${m.name} failed:\n${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  if (report.result !== 'ok') {
    console.error(`pacta on ${m.name}: ${report.result}`);
    process.exit(1);
  }
  return { distinct: report.distinctStates, depth: report.depth, wall };
}

console.log(`percolator: pacta against TLC, ${workers} worker(s) each, whole-process wall time (load average before: ${load()})`);
const rows: string[][] = [];
for (const m of models) {
  const tlc = noTlc ? undefined : runTlc(m);
  const pacta = runPacta(m);
  rows.push([
    m.name, num(pacta.distinct), tlc ? num(tlc.distinct) : '—', tlc ? (tlc.distinct === pacta.distinct ? 'equal' : 'DIFFERENT') : '—',
    String(pacta.depth), tlc ? String(tlc.depth) : '—', pacta.wall.toFixed(1), tlc ? tlc.wall.toFixed(1) : '—',
    tlc ? `${(pacta.wall / tlc.wall).toFixed(2)}×` : '—', load(),
  ]);
}
console.log(table(
  ['model', 'pacta distinct', 'TLC distinct', 'counts', 'pacta depth', 'TLC depth', 'pacta s', 'TLC s', 'pacta/TLC time', 'load after'],
  rows,
  ['left', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
));

console.log(`\nthe bank on the executor: 4 clients, 4 accounts, 2 coordinators, 2 stores, memory transport, no faults, 3 s each (load average before: ${load()})`);
const bankRows: string[][] = [];
for (const mode of ['2PC', 'async commit', '1PC'] as const) {
  for (const syncMode of ['datasync', 'none'] as const) {
    // 1PC needs every key of a transaction on one store: one store.
    const r = await bank({
      durationMs: 3_000, faults: false, syncMode, async: mode === 'async commit', onePC: mode === '1PC', stores: mode === '1PC' ? 1 : 2, log: () => {},
    });
    bankRows.push([mode, syncMode, num(r.committed), num(r.aborted), num(r.unknown), r.txnsPerSecond.toFixed(0), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.ok ? 'holds' : 'VIOLATED', load()]);
  }
}
console.log(table(
  ['commit', 'log flush', 'committed', 'aborted', 'unknown', 'txns/s', 'p50 ms', 'p99 ms', 'history', 'load after'],
  bankRows,
  ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
));
