/**
 * Start-up of the `pacta` command: `--version`, `list`, a trivial `check two-phase`, and the same
 * spec given as a TypeScript file (compiled on load), each run as a whole process N times
 * (default 20), beside `node -e 0` (the floor no command gets under).
 * Prints, per command, the mean, median and fastest wall time, and the CPU time the process used
 * (user + system, read from /proc/self/stat's waited-for-children fields: Linux only), which
 * load on a shared machine distorts much less than wall time. The load average is printed beside.
 *
 *   npx tsx bench/startup.ts                       (this checkout's build: run `npm run build` first)
 *   npx tsx bench/startup.ts --against /work/main  (another checkout side by side, e.g. before a change)
 *   npx tsx bench/startup.ts --runs 50
 *
 * A checkout whose build is missing or older than its sources runs them through tsx (see
 * cli/pacta.mjs); each checkout's line says which one ran.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const runs = Number(option('--runs') ?? 20);
const repo = resolve(import.meta.dirname, '..');
const checkouts = [repo, ...(option('--against') ? [resolve(option('--against')!)] : [])];

/** CPU seconds of this process's waited-for children so far (utime + stime), or NaN off Linux. */
function childrenCpu(): number {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 is index 0: cutime is field 16, cstime field 17 (clock ticks, 100/s).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Row {
  label: string;
  wall: number[];
  cpu: number;
}

function measure(label: string, argv: string[], cwd: string): Row {
  const wall: number[] = [];
  spawnSync(process.execPath, argv, { cwd, stdio: 'ignore' }); // warm the file cache
  const cpu0 = childrenCpu();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, argv, { cwd, stdio: 'ignore' });
    wall.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}`);
  }
  return { label, wall, cpu: ((childrenCpu() - cpu0) / runs) * 1000 };
}

const ms = (x: number): string => `${x.toFixed(0).padStart(6)} ms`;
const loadBefore = loadavg();
const rows: Row[] = [measure('node -e 0', ['-e', '0'], repo)];
for (const dir of checkouts) {
  const bin = resolve(dir, 'cli', 'pacta.mjs');
  const probe = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env: { ...process.env, PACTA_DEBUG: '1' } });
  const version = probe.status === 0 ? ['--version'] : ['--help']; // --help where --version is not known yet
  console.log(`${dir}: ${/running (.*)/.exec(probe.stderr)?.[1] ?? 'the sources through tsx (a checkout from before the build)'}`);
  for (const command of [version, ['list'], ['check', 'two-phase'], ['check', 'specs/two-phase/two-phase.ts']]) {
    rows.push(measure(`${dir === repo ? '' : `${dir}: `}pacta ${command.join(' ')}`, [bin, ...command], dir));
  }
}
console.log(`start-up, ${runs} runs each; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${process.platform}, Node ${process.version}`);
console.log(`${'command'.padEnd(58)}      mean    median   fastest  CPU/run`);
for (const r of rows) {
  const sorted = [...r.wall].sort((a, b) => a - b);
  const mean = r.wall.reduce((a, b) => a + b, 0) / r.wall.length;
  console.log(`${r.label.padEnd(58)} ${ms(mean)} ${ms(sorted[Math.floor(sorted.length / 2)]!)} ${ms(sorted[0]!)} ${Number.isNaN(r.cpu) ? '     —' : ms(r.cpu)}`);
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
