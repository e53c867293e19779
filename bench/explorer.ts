/**
 * Explorer throughput against the anchors (../shared/anchors/README.md): two-phase commit,
 * distinct states per second of whole-process wall time (start-up included, as the TLC and Spin
 * figures are), peak RSS and bytes per visited state. `--full` adds rms=8 and 9.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { num, table } from '../cli/format.ts';

const full = process.argv.includes('--full');
const sizes = full ? [7, 8, 9] : [7];
const repo = resolve(import.meta.dirname, '..');

/** TLC 2.19 (1 worker, min-time rate) and Spin 6 (compiled C, 1 thread) on this kind of machine. */
const anchors: Record<number, { tlc1: number; tlc2: number; spin: number }> = {
  7: { tlc1: 43_918, tlc2: 55_934, spin: 520_000 },
  8: { tlc1: 45_871, tlc2: 66_064, spin: 527_000 },
  9: { tlc1: 45_871, tlc2: 66_064, spin: 392_000 },
};

const rows: string[][] = [];
for (const rms of sizes) {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/explorer-run.ts', 'two-phase', JSON.stringify({ rms }), '{}'], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const wall = (performance.now() - started) / 1000;
  if (child.status !== 0) {
    console.error(child.stderr);
    process.exit(1);
  }
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
  const rate = r.distinctStates / wall;
  const a = anchors[rms]!;
  rows.push([
    String(rms), '1', num(r.distinctStates), num(r.statesGenerated), wall.toFixed(2), num(rate),
    r.bytesPerState.toFixed(1), `${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    num(a.tlc1), `${(rate / a.tlc1).toFixed(2)}×`, `${(rate / a.spin).toFixed(2)}×`,
  ]);
}
console.log('two-phase commit, set network, BFS (whole-process wall time)');
console.log(
  table(
    ['rms', 'workers', 'distinct', 'generated', 'wall s', 'distinct/s', 'bytes/state', 'peak RSS', 'TLC 1w /s', 'vs TLC', 'vs Spin'],
    rows,
    ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  ),
);
