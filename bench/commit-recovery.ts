/**
 * Two-phase commit under coordinator crashes, on the executor: how long participants stay
 * blocked (prepared, undecided), with a backup coordinator and without, over many transactions
 * whose coordinator is killed between PREPARE and COMMIT. Runs docs/examples/two-phase-recovery-
 * cluster.ts (the bundled `two-phase-recovery` spec on `startCluster`, memory transport), one
 * cluster per transaction, the faults in turn (crash before the decision, at the decision, after
 * the first participant decided; with a backup also a partition), the coordinator down for
 * `--restart-ms` (default 120) each time.
 *
 *   npx tsx bench/commit-recovery.ts              (60 transactions per configuration, about a minute)
 *   npx tsx bench/commit-recovery.ts --cycles 120
 *
 * Then paxos-commit (docs/examples/paxos-commit-cluster.ts: 3 RMs, 3 acceptors, 2 leaders) with its
 * coordinator killed once every RM has voted (alone, or with an acceptor), against no fault: a
 * backup leader takes over after 100-150 ms (its `phase1a` timer) and the coordinator need not
 * come back (its scripted late-vote cycle is left out: its timing is the script's).
 *
 * Every transaction must resolve and be atomic (the atomic-commit checker over the recorded
 * votes and decisions); the process exits 1 otherwise. Timers make the figures: a participant
 * asks after 40-60 ms (its `query` timer), the coordinator restarts after `--restart-ms`.
 */
import { execSync } from 'node:child_process';
import { table } from '../cli/format.ts';
import { run as runPaxosCommit } from '../docs/examples/paxos-commit-cluster.ts';
import { quantile, run, type RecoveryReport } from '../docs/examples/two-phase-recovery-cluster.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const cycles = Number(arg('cycles') ?? 60);
const restartMs = Number(arg('restart-ms') ?? 120);
const load = (): string => execSync('uptime').toString().trim().replace(/.*load average: /, 'load ');

console.log(`two-phase-recovery on the executor: ${cycles} transactions per configuration, coordinator down ${restartMs} ms per crash (${load()})`);
const reports: RecoveryReport[] = [];
for (const backup of [false, true]) {
  reports.push(await run({ cycles, backup, restartMs, seed: 1, log: () => {} }));
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const rows = reports.map((r) => [
  r.backup ? 'backup coordinator (asks the backup)' : 'no backup (asks the coordinator only)',
  `${r.resolved}/${r.cycles.length}`,
  `${r.atomic}/${r.cycles.length}`,
  `${r.committed} / ${r.aborted}`,
  ms(r.blockedP50),
  ms(r.blockedP99),
  ms(r.blockedMax),
]);
console.log(table(['configuration', 'resolved', 'atomic', 'commit / abort', 'blocked p50', 'blocked p99', 'max'], rows));

const faults = [...new Set(reports.flatMap((r) => r.cycles.map((c) => c.fault)))];
const byFault = faults.map((f) => [
  f,
  ...reports.map((r) => {
    const xs = r.cycles.filter((c) => c.fault === f).flatMap((c) => c.blockedMs);
    return xs.length ? `${ms(quantile(xs, 0.5))} / ${ms(quantile(xs, 0.99))}` : '—';
  }),
]);
console.log(table(['fault', 'no backup: p50 / p99', 'backup: p50 / p99'], byFault));
const [without, withBackup] = reports;
console.log(`blocked p50 with the backup / without: ${(withBackup!.blockedP50 / without!.blockedP50).toFixed(2)}× (${load()})`);

const paxosFaults = ['none', 'crash-coordinator', 'crash-coordinator-acceptor'] as const;
console.log(`\npaxos-commit on the executor: ${cycles} transactions, the faults in turn, coordinator down ${restartMs} ms per crash (${load()})`);
const pc = await runPaxosCommit({ cycles, faults: paxosFaults, restartMs, seed: 1, log: () => {} });
console.log(
  table(
    ['fault', 'transactions', 'resolved', 'atomic', 'blocked p50', 'blocked p99'],
    paxosFaults.map((f) => {
      const cs = pc.cycles.filter((c) => c.fault === f);
      const xs = cs.flatMap((c) => c.blockedMs);
      const ok = cs.filter((c) => c.violations.length === 0 && (c.outcome === 'commit' || c.outcome === 'abort')).length;
      return [f, String(cs.length), `${ok}/${cs.length}`, `${cs.filter((c) => c.violations.length === 0).length}/${cs.length}`, ms(quantile(xs, 0.5)), ms(quantile(xs, 0.99))];
    }),
  ),
);
console.log(`(${load()})`);
process.exit(reports.every((r) => r.ok) && pc.ok ? 0 : 1);
