/**
 * Paxos Commit with a crashing coordinator, on the executor: each cycle starts a cluster of the
 * bundled `paxos-commit` spec (the one the model checker explores: 3 RMs, 3 acceptors, 2 leaders),
 * runs one transaction with one fault, and waits until every RM has decided. Every step is
 * recorded as an atomic-commit event (votes, RM decisions, every leader's decision, crashes) and
 * checked with pacta's atomic-commit checker; the report gives how long RMs stayed blocked
 * (prepared, undecided), p50 and p99. Unlike two-phase commit, the coordinator's crash blocks no
 * one for longer than a backup leader's takeover timeout, and the coordinator need not come back.
 *
 *   npx tsx docs/examples/paxos-commit-cluster.ts
 *   npx tsx docs/examples/paxos-commit-cluster.ts --variant accept-below-promise
 *   options: --cycles N (default 4), --restart-ms N (default 300), --fault NAME (only this fault)
 *
 * Exit 0 when every transaction resolved atomically, 1 when one did not (or did not resolve).
 *
 * Faults, one per cycle, in turn:
 *   none                        no fault (the backup leader's takeover timer still fires, late, and
 *                               decides the same);
 *   crash-coordinator           the coordinator (leader 1) crashes once every RM has voted, before
 *                               it decides; the backup leader takes over with ballot 1 after its
 *                               100-150 ms timeout and learns every vote from a majority of
 *                               acceptors; the coordinator restarts after --restart-ms, takes over
 *                               with ballot 2 and must decide the same;
 *   crash-coordinator-acceptor  the same, with an acceptor crashed at the same moment for good
 *                               (F = 1 of 3 acceptors);
 *   late-vote                   the backup leader takes over (as its timeout would) while RM 1 has
 *                               not voted yet and is cut off from it; RM 1 then votes, late. Timers
 *                               are off in this cycle and the steps are fired in this order, so the
 *                               interleaving is the model's counterexample to accept-below-promise:
 *                               correct acceptors refuse the late vote (they promised ballot 1), and
 *                               the coordinator's own takeover (ballot 2) then aborts RM 1 too.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkAtomicCommitEvents, type AtomicCommitResult, type CommitEvent } from 'pacta-check/checker';
import { startCluster, type Cluster, type NodeEvent } from 'pacta-check/impl';

type AtomicCommitViolation = AtomicCommitResult['violations'][number];
type Decision = 'none' | 'commit' | 'abort';
type Rm = 'working' | 'prepared' | 'committed' | 'aborted';
interface Leader { ballot: number; proposed: boolean; promises: readonly number[]; chosen: readonly string[]; decision: Decision }
type Spec = NonNullable<Awaited<ReturnType<typeof loadBundledSpec>>>;

/** The fault injected into a cycle's transaction (see the doc comment). */
export type Fault = 'none' | 'crash-coordinator' | 'crash-coordinator-acceptor' | 'late-vote';
export const faults: readonly Fault[] = ['none', 'crash-coordinator', 'crash-coordinator-acceptor', 'late-vote'];

export interface PaxosCommitOptions {
  cycles?: number;
  variant?: string;
  faults?: readonly Fault[];
  /** How long the crashed coordinator stays down. */
  restartMs?: number;
  resolveTimeoutMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CycleReport {
  fault: Fault;
  outcome: Decision | 'mixed' | 'unresolved';
  /** Per RM: ms from its yes vote to its decision (those that voted yes and decided). */
  blockedMs: number[];
  violations: readonly AtomicCommitViolation[];
}

export interface PaxosCommitReport {
  variant: string | undefined;
  cycles: CycleReport[];
  resolved: number;
  atomic: number;
  committed: number;
  aborted: number;
  blockedP50: number;
  blockedP99: number;
  ok: boolean;
}

/** The q-quantile of `xs` (nearest rank), 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export async function run(options: PaxosCommitOptions = {}): Promise<PaxosCommitReport> {
  const log = options.log ?? console.log;
  const base = await loadBundledSpec('paxos-commit');
  if (!base) throw new Error('paxos-commit is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;
  const cycles = options.cycles ?? 4;
  const rotation = options.faults ?? faults;
  const reports: CycleReport[] = [];
  for (let i = 0; i < cycles; i++) {
    const fault = rotation[i % rotation.length]!;
    const r = await cycle(spec, fault, { restartMs: options.restartMs ?? 300, timeoutMs: options.resolveTimeoutMs ?? 5_000, seed: (options.seed ?? 0) + i });
    reports.push(r);
    if (r.violations.length || r.outcome === 'unresolved' || r.outcome === 'mixed') {
      log(`cycle ${i + 1} (${fault}): ${r.outcome}; ${r.violations.map((v) => `${v.property}: ${v.message}`).join('; ') || 'no decision'}`);
    }
  }
  const blocked = reports.flatMap((r) => r.blockedMs);
  const report: PaxosCommitReport = {
    variant: options.variant,
    cycles: reports,
    resolved: reports.filter((r) => r.outcome === 'commit' || r.outcome === 'abort').length,
    atomic: reports.filter((r) => r.violations.length === 0 && r.outcome !== 'mixed').length,
    committed: reports.filter((r) => r.outcome === 'commit').length,
    aborted: reports.filter((r) => r.outcome === 'abort').length,
    blockedP50: quantile(blocked, 0.5),
    blockedP99: quantile(blocked, 0.99),
    ok: reports.every((r) => r.violations.length === 0 && (r.outcome === 'commit' || r.outcome === 'abort')),
  };
  log(
    `${options.variant ? `variant ${options.variant}, ` : ''}paxos-commit, 3 RMs, 3 acceptors, 2 leaders: ` +
      `${report.resolved}/${cycles} transactions resolved (${report.committed} committed, ${report.aborted} aborted), ` +
      `${report.atomic}/${cycles} atomic; RMs blocked p50 ${report.blockedP50.toFixed(1)} ms, p99 ${report.blockedP99.toFixed(1)} ms`,
  );
  return report;
}

/** One transaction on a fresh cluster, with one fault. */
async function cycle(spec: Spec, fault: Fault, o: { restartMs: number; timeoutMs: number; seed: number }): Promise<CycleReport> {
  const events: CommitEvent[] = [];
  const votedAt = new Map<number, number>();
  const blockedMs: number[] = [];
  const last = new Map<number, unknown>();
  const rms: number[] = [];
  const leaders: number[] = [];
  const acceptors: number[] = [];
  let cluster: Cluster | undefined;
  let crash: (() => void) | undefined;
  let crashed = false;

  /** Turns each observed state change into atomic-commit events (and times the RMs). */
  const observe = (e: NodeEvent): void => {
    if (!cluster || e.kind !== 'step' || !e.changed) return;
    const id = e.node;
    const now = cluster.state(id);
    const before = last.get(id);
    last.set(id, now);
    if (rms.includes(id)) {
      const s = now as Rm;
      const was = (before ?? 'working') as Rm;
      if (s === was) return;
      if (s === 'prepared') {
        events.push({ kind: 'vote', participant: id, vote: 'yes' });
        votedAt.set(id, performance.now());
        // Every RM has voted: the coordinator crashes before it can decide.
        if (!crashed && fault.startsWith('crash-') && rms.every((r) => cluster!.state(r) === 'prepared')) crash?.();
      } else if (s === 'committed' || s === 'aborted') {
        if (was === 'working') events.push({ kind: 'vote', participant: id, vote: 'no' });
        events.push({ kind: 'decide', participant: id, decision: s === 'committed' ? 'commit' : 'abort' });
        const t = votedAt.get(id);
        if (t !== undefined) blockedMs.push(performance.now() - t);
      }
    } else if (leaders.includes(id)) {
      // Every leader's decision is the transaction's: the checker holds them to one another.
      const s = now as Leader;
      if (s.decision !== 'none' && s.decision !== (before as Leader | undefined)?.decision) events.push({ kind: 'coordinator-decide', decision: s.decision });
    }
  };

  cluster = await startCluster(spec, {
    transport: 'memory',
    // Ballots up to 4: after the backup's ballot 1, a restarted coordinator can take over with 2 (and the backup again with 3).
    params: { rms: 3, acceptors: 3, leaders: 2, maxBallot: 4 },
    seed: o.seed,
    syncMode: 'none',
    timers: fault !== 'late-vote',
    onEvent: (e) => observe(e),
  });
  const c = cluster;
  for (const id of c.nodes) {
    const role = c.layout.roleOf(id)?.name;
    if (role === 'rm') rms.push(id);
    if (role === 'leader') leaders.push(id);
    if (role === 'acceptor') acceptors.push(id);
    last.set(id, c.state(id));
  }
  const [coordinator, backup] = leaders as [number, number];
  const leader = (id: number): Leader | undefined => c.state<Leader>(id);
  let restarted: Promise<void> = Promise.resolve();
  crash = () => {
    crashed = true;
    events.push({ kind: 'coordinator-crash' });
    const down = [c.crash(coordinator), ...(fault === 'crash-coordinator-acceptor' ? [c.crash(acceptors[2]!)] : [])];
    restarted = Promise.all(down).then(async () => {
      await sleep(o.restartMs);
      await c.restart(coordinator);
      last.set(coordinator, c.state(coordinator));
    });
  };
  const decided = (id: number): boolean => ['committed', 'aborted'].includes(c.state<Rm>(id) ?? 'working');
  const wait = (p: () => boolean): Promise<boolean> => c.waitUntil(p, { timeoutMs: o.timeoutMs }).then(() => true, () => false);
  try {
    let resolved = true;
    if (fault === 'late-vote') {
      const [rm1, ...others] = rms as [number, ...number[]];
      // RM 1 is slow, and cut off from the backup leader (its decision will not reach RM 1).
      c.partition(rm1, backup);
      for (const r of others) await c.fire(r, 'prepare');
      resolved &&= await wait(() => others.every((_, i) => leader(coordinator)?.chosen[i + 1] === 'prepared'));
      // The backup leader's timeout: it takes the transaction over with ballot 1 and decides abort
      // (no acceptor of its majority had accepted a vote of RM 1's instance).
      await c.fire(backup, 'phase1a');
      resolved &&= await wait(() => (leader(backup)?.promises.length ?? 0) >= 2);
      await c.fire(backup, 'phase2a');
      resolved &&= await wait(() => leader(backup)?.decision !== 'none' && others.every(decided));
      // RM 1's vote, late: ballot 0, below the acceptors' promise.
      await c.fire(rm1, 'prepare');
      await c.idle();
      await sleep(20);
      c.heal();
      // The coordinator's timeout, if it has not decided: it takes over with ballot 2 and learns the outcome.
      if (leader(coordinator)?.decision === 'none') {
        await c.fire(coordinator, 'phase1a');
        await wait(() => (leader(coordinator)?.promises.length ?? 0) >= 2);
        await c.fire(coordinator, 'phase2a');
      }
    } else if (fault !== 'none') {
      // Wait for the crash, the restart, and the restarted coordinator's own decision (it must agree).
      resolved &&= await wait(() => crashed);
      await restarted;
      resolved &&= await wait(() => leader(coordinator)?.decision !== 'none');
    }
    resolved &&= await wait(() => rms.every(decided));
    const finals = rms.map((id) => c.state<Rm>(id));
    const outcome: CycleReport['outcome'] = !resolved
      ? 'unresolved'
      : finals.every((s) => s === 'committed')
        ? 'commit'
        : finals.every((s) => s === 'aborted')
          ? 'abort'
          : 'mixed';
    const verdict = checkAtomicCommitEvents(rms, events, { complete: resolved });
    return { fault, outcome, blockedMs, violations: verdict.violations };
  } finally {
    await c.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const num = (name: string): number | undefined => (flag(args, name) === undefined ? undefined : Number(flag(args, name)));
  const r = await run({
    variant: flag(args, 'variant'),
    cycles: num('cycles'),
    restartMs: num('restart-ms'),
    ...(flag(args, 'fault') !== undefined && { faults: [flag(args, 'fault') as Fault] }),
  });
  process.exit(r.ok ? 0 : 1);
}
