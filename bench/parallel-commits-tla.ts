/**
 * `parallel-commits-tla` against TLC on cockroach's ParallelCommits.tla, in one run, one after
 * the other: the distinct states must be equal; both whole-process wall times (start-up
 * included), CPU times (user + system, from /usr/bin/time) and the machine's load are printed.
 *
 *   npx tsx bench/parallel-commits-tla.ts --tla PATH      the cfg (KEYS {k1,k2}, PREVENTERS {p1,p2},
 *                                                        MAX_ATTEMPTS 3): 8,216,557 states; minutes
 *   --small                                              KEYS {k1,k2}, PREVENTERS {p1} (146,018 states)
 *   --workers N                                          TLC's and pacta's workers (default 2)
 *
 * PATH is cockroach's docs/tla-plus/ParallelCommits/ParallelCommits.tla (it carries its PlusCal
 * translation; not vendored here), or set PACTA_PARALLEL_COMMITS_TLA. It is copied to a temporary
 * directory with a cfg of the constants and the safety invariants (TypeInvariants,
 * AckImpliesCommit), as the figures are; TLC is ../shared/anchors/tlc (run-tlc.sh), and
 * needs java. pacta runs as `pacta check parallel-commits-tla --no-liveness --workers N --json`.
 * Without PATH, pacta alone.
 */
import { execSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { num, table } from '../cli/format.ts';

const repo = resolve(import.meta.dirname, '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const workers = Number(arg('--workers') ?? 2);
const small = process.argv.includes('--small');
const tla = arg('--tla') ?? process.env.PACTA_PARALLEL_COMMITS_TLA;
const anchors = [process.env.PACTA_ANCHORS, resolve(repo, '..', 'shared', 'anchors'), resolve(repo, '..', '..', 'shared', 'anchors')]
  .filter((p): p is string => !!p)
  .find((p) => existsSync(join(p, 'tlc', 'run-tlc.sh')));
const load = (): string => execSync('uptime').toString().trim().replace(/.*load average: /, 'load ');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const model = small
  ? { name: 'KEYS {k1,k2}, PREVENTERS {p1}, MAX_ATTEMPTS 3', keys: 2, preventers: 1, maxAttempts: 3, expected: 146_018 }
  : { name: 'ParallelCommits.cfg: KEYS {k1,k2}, PREVENTERS {p1,p2}, MAX_ATTEMPTS 3', keys: 2, preventers: 2, maxAttempts: 3, expected: 8_216_557 };

interface Run {
  distinct: number | null;
  generated: number | null;
  depth: number | null;
  wall: number;
  cpu: number | null;
}

/** Runs a command under /usr/bin/time (when there is one): its output, wall and CPU seconds. */
function timed(cmd: string, args: string[], cwd: string): { stdout: string; stderr: string; status: number | null; wall: number; cpu: number | null } {
  const started = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ['-f', 'cpu %U %S', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - started) / 1000;
  const t = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, wall, cpu: t ? Number(t[1]) + Number(t[2]) : null };
}

function tlc(): Run | null {
  if (!anchors || !tla) return null;
  const dir = mkdtempSync(join(tmpdir(), 'pacta-tlc-'));
  copyFileSync(tla, join(dir, 'ParallelCommits.tla'));
  const set = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`).join(', ');
  const cfg = `SPECIFICATION\n  Spec\nCONSTANTS\n  KEYS = {${set('k', model.keys)}}\n  PREVENTERS = {${set('p', model.preventers)}}\n  MAX_ATTEMPTS = ${model.maxAttempts}\nINVARIANTS\n  TypeInvariants\n  AckImpliesCommit\n`;
  writeFileSync(join(dir, 'Safety.cfg'), cfg);
  const r = timed('bash', [join(anchors, 'tlc', 'run-tlc.sh'), dir, 'ParallelCommits.tla', 'Safety.cfg', String(workers)], dir);
  const found = /([\d,]+) states generated, ([\d,]+) distinct states found, 0 states left on queue/.exec(r.stdout);
  const depth = /depth of the complete state graph search is (\d+)/.exec(r.stdout);
  if (r.status !== 0 || !found) {
    console.error(`TLC failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return { distinct: null, generated: null, depth: null, wall: r.wall, cpu: r.cpu };
  }
  const n = (s: string) => Number(s.replace(/,/g, ''));
  return { distinct: n(found[2]!), generated: n(found[1]!), depth: depth ? Number(depth[1]) : null, wall: r.wall, cpu: r.cpu };
}

function pacta(): Run {
  const args = ['cli/pacta.mjs', 'check', 'parallel-commits-tla', '--no-liveness', '--json', '--workers', String(workers)];
  for (const k of ['keys', 'preventers', 'maxAttempts'] as const) args.push('--param', `${k}=${model[k]}`);
  const r = timed(process.execPath, args, repo);
  try {
    const out = JSON.parse(r.stdout) as { result: string; distinctStates: number; statesGenerated: number; depth: number };
    if (out.result !== 'ok') console.error(`pacta: ${out.result}`);
    return { distinct: out.distinctStates, generated: out.statesGenerated, depth: out.depth, wall: r.wall, cpu: r.cpu };
  } catch {
    console.error(`pacta failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return { distinct: null, generated: null, depth: null, wall: r.wall, cpu: r.cpu };
  }
}

if (!tla) console.log('no ParallelCommits.tla given (--tla PATH): pacta only');
else if (!anchors) console.log('TLC not found (../shared/anchors/tlc): pacta only');
console.log(`${model.name}; ${workers} worker(s) each; ${load()}`);
const t = tlc();
if (t) console.log(`  TLC done (${load()})`);
const p = pacta();
console.log(`  pacta done (${load()})`);
const fmt = (x: number | null) => (x == null ? '—' : num(x));
const secs = (x: number | null) => (x == null ? '—' : `${x.toFixed(1)} s`);
const rows = [t && ['TLC', fmt(t.distinct), fmt(t.generated), fmt(t.depth), secs(t.wall), secs(t.cpu)], ['pacta', fmt(p.distinct), fmt(p.generated), fmt(p.depth), secs(p.wall), secs(p.cpu)]].filter(
  (r): r is string[] => !!r,
);
console.log(table(['tool', 'distinct', 'generated', 'depth', 'wall', 'CPU'], rows));
if (t) console.log(`pacta / TLC: wall ${(p.wall / t.wall).toFixed(2)}×, CPU ${p.cpu && t.cpu ? (p.cpu / t.cpu).toFixed(2) : '—'}×`);
const ok = p.distinct === model.expected && (t === null || t.distinct === model.expected);
process.exit(ok ? 0 : 1);
