/**
 * Spanner commit latency against TrueTime's ε: the bundled `spanner` spec running as a cluster in
 * this process (memory transport, logs not flushed), one client committing read-write
 * transactions one after another, for ε = 0, 1, 2, 4, 7 ms. Commit wait holds a commit until
 * TT.after(s), with s > TT.now().latest when the coordinator received the commit: about 2ε after
 * that receipt, so commit latency should grow by about 2ε over the ε = 0 run (less where the
 * Paxos round of the commit record overlaps the wait, as Spanner arranges it).
 *
 *   npx tsx bench/spanner.ts                       (about a minute)
 *   npx tsx bench/spanner.ts --quick               (fewer commits, noisier)
 *   npx tsx bench/spanner.ts --svg docs/img/spanner-commit-latency.svg
 *
 * Method. Two workloads: a write to one key of a single group of 3 replicas (the coordinator logs
 * its commit record through a majority, then waits), and a transfer across 2 groups of 3 replicas
 * (two-phase commit: a prepare record logged in the participant, then the commit record). One
 * cluster per (workload, ε), all started first; then rounds, each running a batch of commits on
 * every cluster in turn, so the machine's load drifts over all of them alike. Spec time is in
 * units of 0.1 ms read from a sub-millisecond clock, so timestamps do not round to whole ms;
 * commit wait polls every 1 ms (the `applyNext` timer), which adds up to ~1 ms (more on a loaded
 * machine, where timers fire late). Latency is from the client's send to its reply.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { table } from '../cli/format.ts';
import { startCluster, systemClock, type Clock, type Cluster } from '../impl/index.ts';
import spanner from '../specs/spanner/spanner.ts';
import type { SpannerOp } from '../specs/spanner/spanner.ts';
import type { TxnResult } from '../specs/txn/index.ts';

const quick = process.argv.includes('--quick');
const svgAt = process.argv.indexOf('--svg');
const svgPath = svgAt >= 0 ? process.argv[svgAt + 1] : undefined;
const EPSILONS = [0, 1, 2, 4, 7];
const rounds = quick ? 4 : 10;
const batch = quick ? 10 : 20;
const warmup = 5;
const TICK_MS = 0.1;

/** The machine's clock with sub-millisecond readings (Date.now() moves in whole ms). */
function fineClock(): Clock<number> {
  const base = systemClock();
  const origin = Date.now() - performance.now();
  return { now: () => origin + performance.now(), monotonicMs: base.monotonicMs, setTimer: base.setTimer };
}

interface Run {
  workload: 'one group' | 'two groups';
  epsilonMs: number;
  cluster: Cluster<SpannerOp, TxnResult>;
  latencies: number[];
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function start(workload: Run['workload'], epsilonMs: number): Promise<Run> {
  const cluster = await startCluster<SpannerOp, TxnResult>(spanner, {
    transport: 'memory', clock: fineClock(), tickMs: TICK_MS, trueTimeEpsilon: Math.round(epsilonMs / TICK_MS), syncMode: 'none', seed: 1,
    params: { groups: workload === 'one group' ? 1 : 2, replicas: 3, keys: 2, clients: 1, maxEpoch: 0, timeouts: false },
    invokeTimeoutMs: 10_000,
  });
  return { workload, epsilonMs, cluster, latencies: [] };
}

const ops: Record<Run['workload'], (i: number) => SpannerOp> = {
  'one group': (i) => ({ steps: [{ f: 'w', key: 0, n: i }], mode: 'rw' }),
  'two groups': () => ({ steps: [{ f: 'add', key: 0, by: -1 }, { f: 'add', key: 1, by: 1 }], mode: 'rw' }),
};

async function commits(run: Run, n: number, record: boolean): Promise<void> {
  const client = run.cluster.client(0);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await client.invoke(ops[run.workload](i));
    if (r.status !== 'committed') throw new Error(`${run.workload}, ε ${run.epsilonMs}: ${r.status}`);
    if (record) run.latencies.push(performance.now() - t0);
  }
}

/** A small SVG line chart: p50 and p99 per workload against ε, and the ε = 0 median plus 2ε. */
function svg(rows: { workload: string; epsilonMs: number; p50: number; p99: number; expected: number }[]): string {
  const W = 640, H = 400, L = 60, R = 170, T = 30, B = 50;
  const maxY = Math.ceil(Math.max(...rows.map((r) => Math.max(r.p99, r.expected))) / 5) * 5;
  const x = (e: number): number => L + (e / 7) * (W - L - R);
  const y = (ms: number): number => H - B - (ms / maxY) * (H - T - B);
  const line = (pts: [number, number][], color: string, dash = ''): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${pts.map(([e, v]) => `${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  const series: string[] = [];
  const legend: string[] = [];
  const colors: Record<string, string> = { 'one group': '#1f77b4', 'two groups': '#d62728' };
  let k = 0;
  for (const w of ['one group', 'two groups']) {
    const rs = rows.filter((r) => r.workload === w);
    const c = colors[w]!;
    series.push(line(rs.map((r) => [r.epsilonMs, r.p50]), c), line(rs.map((r) => [r.epsilonMs, r.p99]), c, '2,3'), line(rs.map((r) => [r.epsilonMs, r.expected]), '#555', '8,4'));
    for (const [label, dash] of [[`${w} p50`, ''], [`${w} p99`, '2,3']] as const) {
      legend.push(`<line x1="${W - R + 10}" x2="${W - R + 40}" y1="${T + 18 * k}" y2="${T + 18 * k}" stroke="${c}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/><text x="${W - R + 45}" y="${T + 18 * k + 4}" font-size="12">${label}</text>`);
      k++;
    }
  }
  legend.push(`<line x1="${W - R + 10}" x2="${W - R + 40}" y1="${T + 18 * k}" y2="${T + 18 * k}" stroke="#555" stroke-width="2" stroke-dasharray="8,4"/><text x="${W - R + 45}" y="${T + 18 * k + 4}" font-size="12">p50 at ε=0, + 2ε</text>`);
  const ticksX = EPSILONS.map((e) => `<text x="${x(e)}" y="${H - B + 18}" font-size="12" text-anchor="middle">${e}</text>`).join('');
  const ticksY = Array.from({ length: 6 }, (_, i) => (maxY * i) / 5).map((v) => `<text x="${L - 8}" y="${y(v) + 4}" font-size="12" text-anchor="end">${v}</text><line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>${ticksY}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>${ticksX}
<text x="${(L + W - R) / 2}" y="${H - 12}" font-size="13" text-anchor="middle">TrueTime ε (ms)</text>
<text x="16" y="${(T + H - B) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">commit latency (ms)</text>
${series.join('\n')}
${legend.join('\n')}
</svg>
`;
}

const runs: Run[] = [];
try {
  for (const w of ['one group', 'two groups'] as const) for (const e of EPSILONS) runs.push(await start(w, e));
  for (const run of runs) await commits(run, warmup, false);
  for (let r = 0; r < rounds; r++) for (const run of runs) await commits(run, batch, true);
} finally {
  await Promise.all(runs.map((r) => r.cluster.close()));
}

const rows = runs.map((run) => {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const base = runs.find((x) => x.workload === run.workload && x.epsilonMs === 0)!;
  const baseP50 = percentile([...base.latencies].sort((a, b) => a - b), 0.5);
  const p50 = percentile(sorted, 0.5);
  return { workload: run.workload, epsilonMs: run.epsilonMs, n: sorted.length, p50, p99: percentile(sorted, 0.99), added: p50 - baseP50, twoEps: 2 * run.epsilonMs, expected: baseP50 + 2 * run.epsilonMs };
});
const { loadavg } = await import('node:os');
console.log(`spanner commit latency, memory transport, 1 client, ${rounds} rounds × ${batch} commits per cluster; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(table(
  ['workload', 'ε ms', 'commits', 'p50 ms', 'p99 ms', 'p50 − p50(ε=0)', '2ε ms'],
  rows.map((r) => [r.workload, String(r.epsilonMs), String(r.n), r.p50.toFixed(2), r.p99.toFixed(2), r.added.toFixed(2), String(r.twoEps)]),
));
if (svgPath) {
  writeFileSync(svgPath, svg(rows));
  console.log(`wrote ${svgPath}`);
}
