/**
 * The fast successor layer against the reference semantics on the whole catalogue: for each
 * bundled spec at its defaults (no flags but the spec's own), `pacta check SPEC` and
 * `pacta check SPEC --no-fast-path`, one after the other, each a whole process. Prints per spec
 * the distinct states of each run, whether they are equal, wall and CPU seconds of each, and the
 * reference run's cost as a multiple of the fast one. Unequal counts on two complete runs are a
 * bug in the kernel (issue 12: the two must give the same distinct states); a run that hit the
 * time cap says so and is not compared.
 *
 *   npm run build && npx tsx bench/reference-semantics.ts                 (every bundled spec)
 *   npx tsx bench/reference-semantics.ts --specs spanner,cockroach        (some of them)
 *   npx tsx bench/reference-semantics.ts --time 1200 --json rows.json     (cap each run; keep rows)
 *
 * The runs are sequential on purpose (never two at once): on a shared machine the CPU seconds
 * (user + system of the child, from /proc/self/stat: Linux only) are the better guide, and are
 * printed beside the wall time with the load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const repo = resolve(import.meta.dirname, '..');
const bin = resolve(repo, 'cli', 'pacta.mjs');
/** Seconds each run may take before pacta stops it (its own `--time`: a partial count, exit 3). */
const cap = Number(option('--time') ?? 1800);
const jsonOut = option('--json');

interface Run {
  result: string;
  exhaustive: boolean;
  states: number;
  wall: number;
  cpu: number;
}

interface Row {
  spec: string;
  fast: Run;
  reference: Run;
}

/** CPU seconds of this process's waited-for children so far (cutime + cstime), or NaN off Linux. */
function childrenCpu(): number {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function check(spec: string, extra: string[]): Run {
  const cpu0 = childrenCpu();
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, 'check', spec, '--json', '--time', String(cap), ...extra], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const wall = (performance.now() - t) / 1000;
  const cpu = childrenCpu() - cpu0;
  let out: { result?: string; exhaustive?: boolean; distinctStates?: number };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    throw new Error(`pacta check ${spec} ${extra.join(' ')}: exit ${r.status}, no JSON on stdout\n${r.stderr.slice(-2000)}`);
  }
  return { result: out.result ?? `exit ${r.status}`, exhaustive: out.exhaustive === true, states: out.distinctStates ?? Number.NaN, wall, cpu };
}

/** Whether a run explored everything (a cut run's count is a lower bound, not comparable). */
const complete = (r: Run): boolean => r.exhaustive && (r.result === 'ok' || r.result === 'violation');

const listed = JSON.parse(spawnSync(process.execPath, [bin, 'list', '--json'], { cwd: repo, encoding: 'utf8' }).stdout) as { name: string }[];
const specs = option('--specs')?.split(',') ?? listed.map((s) => s.name);

// A checkout whose sources are newer than its build runs them through tsx (cli/pacta.mjs), which
// slows both runs unevenly: say which one ran.
const probe = spawnSync(process.execPath, [bin, '--version'], { cwd: repo, encoding: 'utf8', env: { ...process.env, PACTA_DEBUG: '1' } });
console.log(`pacta: ${/running (.*)/.exec(probe.stderr)?.[1] ?? 'unknown'}${/tsx/.test(probe.stderr) ? ' (run `npm run build` first for figures)' : ''}`);
const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
console.log(`${cpus().length} × ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; each run capped at ${cap} s`);
const loadBefore = loadavg();
console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

const rows: Row[] = [];
const n = (x: number): string => (Number.isNaN(x) ? '—' : x.toLocaleString('en-US'));
const s = (x: number): string => (Number.isNaN(x) ? '—' : x.toFixed(1));
const verdict = (r: Row): string =>
  !complete(r.fast) || !complete(r.reference) ? `cut (${complete(r.fast) ? r.reference.result : r.fast.result})` : r.fast.states === r.reference.states ? 'yes' : 'NO';
const header = `${'spec'.padEnd(24)} ${'states fast'.padStart(12)} ${'states ref'.padStart(12)} ${'equal'.padEnd(8)} ${'fast s'.padStart(7)} ${'ref s'.padStart(8)} ${'fast cpu'.padStart(8)} ${'ref cpu'.padStart(8)} ${'ratio'.padStart(6)}`;
const line = (r: Row): string =>
  `${r.spec.padEnd(24)} ${n(r.fast.states).padStart(12)} ${n(r.reference.states).padStart(12)} ${verdict(r).padEnd(8)} ${s(r.fast.wall).padStart(7)} ${s(r.reference.wall).padStart(8)} ${s(r.fast.cpu).padStart(8)} ${s(r.reference.cpu).padStart(8)} ${(r.reference.cpu / r.fast.cpu).toFixed(1).padStart(5)}x`;

console.log(header);
for (const spec of specs) {
  const row: Row = { spec, fast: check(spec, []), reference: check(spec, ['--no-fast-path']) };
  rows.push(row);
  console.log(`${line(row)}   (load ${loadavg()[0]!.toFixed(2)})`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ machine: cpuModel, loadBefore, rows }, null, 2));
}

console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ratio = reference CPU / fast CPU`);
console.log(header);
for (const r of rows) console.log(line(r));
const unequal = rows.filter((r) => verdict(r) === 'NO');
if (unequal.length > 0) {
  console.log(`\nUNEQUAL distinct states (a kernel bug): ${unequal.map((r) => r.spec).join(', ')}`);
  process.exitCode = 1;
}
