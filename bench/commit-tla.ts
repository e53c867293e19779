/**
 * The TLC-shaped commit models against TLC, in one run, side by side: the distinct states must be
 * equal, and the whole-process wall times of both (start-up included) are printed with their
 * ratio and the machine's load.
 *
 *   npx tsx bench/commit-tla.ts           2PCwithBTM (3 RMs, 1,245 states) and a small PaxosCommit
 *                                          (1 RM, 3 acceptors, ballots {0,1,2}: 66,893 states)
 *   npx tsx bench/commit-tla.ts --full    adds PaxosCommit.cfg itself (2 RMs, 3 acceptors, ballots
 *                                          {0,1}: 1,321,761 states), the performance anchor; minutes
 *   --workers N                            TLC's and pacta's workers (default 2)
 *
 * TLC is ../shared/anchors/tlc (tla2tools.jar 2.19, run-tlc.sh, the TLA+ Examples' transaction_commit
 * models); it needs java. Each model's folder is copied to a temporary directory first (TLC writes
 * beside the spec). pacta runs as `pacta check SPEC --workers N --json` (cli/pacta.mjs) in its own process.
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { num, table } from '../cli/format.ts';

const repo = resolve(import.meta.dirname, '..');
const full = process.argv.includes('--full');
const wi = process.argv.indexOf('--workers');
const workers = wi >= 0 ? Number(process.argv[wi + 1]) : 2;
const anchors = [process.env.PACTA_ANCHORS, resolve(repo, '..', 'shared', 'anchors'), resolve(repo, '..', '..', 'shared', 'anchors')]
  .filter((p): p is string => !!p)
  .find((p) => existsSync(join(p, 'tlc', 'run-tlc.sh')));
const load = (): string => execSync('uptime').toString().trim().replace(/.*load average: /, 'load ');

interface Model {
  name: string;
  tla: string;
  /** The cfg file of the folder, or the text of one to write. */
  cfg: { file: string } | { text: string };
  spec: string;
  params: Record<string, number>;
  /** TLC's count, recorded in ../shared/anchors (or measured here). */
  expected: number;
}

const paxosSmall = `CONSTANTS
  RM = {r1}
  Acceptor = {a1, a2, a3}
  Majority = {{a1, a2}, {a1, a3}, {a2, a3}}
  Ballot = {0, 1, 2}
INVARIANT PCTypeOK
SPECIFICATION PCSpec
`;

const models: Model[] = [
  { name: '2PCwithBTM, 3 RMs', tla: '2PCwithBTM.tla', cfg: { file: '2PCwithBTM.cfg' }, spec: 'two-phase-btm-tla', params: {}, expected: 1_245 },
  { name: 'PaxosCommit, 1 RM, ballots {0,1,2}', tla: 'PaxosCommit.tla', cfg: { text: paxosSmall }, spec: 'paxos-commit-tla', params: { rms: 1, maxBallot: 2 }, expected: 66_893 },
  ...(full
    ? [{ name: 'PaxosCommit.cfg: 2 RMs, 3 acceptors, ballots {0,1}', tla: 'PaxosCommit.tla', cfg: { file: 'PaxosCommit.cfg' }, spec: 'paxos-commit-tla', params: {}, expected: 1_321_761 }]
    : []),
];

interface Run {
  distinct: number | null;
  seconds: number;
}

function tlc(m: Model): Run | null {
  if (!anchors) return null;
  const dir = mkdtempSync(join(tmpdir(), 'pacta-tlc-'));
  cpSync(join(anchors, 'tlc', 'specs', 'tlaplus-examples', 'transaction_commit'), dir, { recursive: true });
  let cfg: string;
  if ('file' in m.cfg) cfg = m.cfg.file;
  else {
    cfg = 'Bench.cfg';
    writeFileSync(join(dir, cfg), m.cfg.text);
  }
  const started = performance.now();
  const r = spawnSync('bash', [join(anchors, 'tlc', 'run-tlc.sh'), dir, m.tla, cfg, String(workers)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  const found = /states generated, ([\d,]+) distinct states found, 0 states left on queue/.exec(r.stdout);
  if (r.status !== 0 || !found) {
    console.error(`TLC failed on ${m.name}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return { distinct: null, seconds };
  }
  return { distinct: Number(found[1]!.replace(/,/g, '')), seconds };
}

function pacta(m: Model): Run {
  const args = ['cli/pacta.mjs', 'check', m.spec, '--json', '--workers', String(workers)];
  for (const [k, v] of Object.entries(m.params)) args.push('--param', `${k}=${v}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', maxBuffer: 16 << 20 });
  const seconds = (performance.now() - started) / 1000;
  try {
    const out = JSON.parse(r.stdout) as { result: string; distinctStates: number };
    if (out.result !== 'ok') console.error(`pacta: ${m.spec} ${out.result}`);
    return { distinct: out.distinctStates, seconds };
  } catch {
    console.error(`pacta failed on ${m.spec}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return { distinct: null, seconds };
  }
}

if (!anchors) console.log('TLC not found (../shared/anchors/tlc): pacta only');
console.log(`TLC and pacta, ${workers} worker(s) each, whole-process wall time; ${load()}`);
const rows: string[][] = [];
let ok = true;
for (const m of models) {
  const t = tlc(m);
  const p = pacta(m);
  const equal = p.distinct === m.expected && (t === null || t.distinct === m.expected);
  ok &&= equal;
  rows.push([
    m.name,
    t?.distinct == null ? '—' : num(t.distinct),
    p.distinct == null ? '—' : num(p.distinct),
    equal ? 'yes' : 'NO',
    t ? `${t.seconds.toFixed(1)} s` : '—',
    `${p.seconds.toFixed(1)} s`,
    t ? `${(t.seconds / p.seconds).toFixed(2)}×` : '—',
  ]);
  console.log(`  ${m.name}: done (${load()})`);
}
console.log(table(['model', 'TLC distinct', 'pacta distinct', 'equal', 'TLC', 'pacta', 'TLC / pacta'], rows));
process.exit(ok ? 0 : 1);
