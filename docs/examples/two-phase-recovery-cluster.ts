/**
 * Two-phase commit with a crashing coordinator, on the executor: each cycle starts a cluster of
 * the bundled `two-phase-recovery` spec (the one the model checker explores), runs one
 * transaction, kills the coordinator between PREPARE and COMMIT, restarts it after a while, and
 * waits until every participant has decided. Every step is recorded as an atomic-commit event
 * (votes, decisions, the coordinator's and the backup's decisions, crashes) and checked with
 * pacta's atomic-commit checker; the report gives how long participants stayed blocked
 * (prepared, not yet decided), p50 and p99.
 *
 *   npx tsx docs/examples/two-phase-recovery-cluster.ts                  (with the backup coordinator)
 *   npx tsx docs/examples/two-phase-recovery-cluster.ts --backup false   (participants can only ask the coordinator)
 *   npx tsx docs/examples/two-phase-recovery-cluster.ts --variant decision-not-logged
 *   options: --cycles N (default 6), --rms N (default 3), --restart-ms N (default 120),
 *            --fault NAME (only this fault; the names are below, e.g. --fault crash-at-decision)
 *
 * Exit 0 when every transaction resolved atomically, 1 when one did not (or did not resolve).
 *
 * Faults, one per cycle (each cycle is one transaction), in turn:
 *   crash-before-decision       the coordinator crashes once every vote is in, before it decides;
 *   crash-at-decision           it is cut off from the participants just before it decides and
 *                               crashes once the decision is on its disk: logged, but every
 *                               message that carried it is lost (with a backup, it is recorded
 *                               there too);
 *   crash-after-first-decision  it crashes right after the first participant decided: the
 *                               decision is partly delivered;
 *   partition                   (with a backup) it is cut off from the backup and from the last
 *                               participant for a while, just before it decides, so that
 *                               participant asks the backup.
 * In every cycle a lock timeout also fires on the first participant once it has voted (a correct
 * participant refuses: it is prepared). Each broken variant is exposed by one of these.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkAtomicCommitEvents, type AtomicCommitResult, type CommitEvent } from 'pacta-check/checker';
import { startCluster, type Cluster, type NodeEvent } from 'pacta-check/impl';

type AtomicCommitViolation = AtomicCommitResult['violations'][number];
type Decision = 'none' | 'commit' | 'abort';
type Rm = 'working' | 'prepared' | 'committed' | 'aborted';
interface Coordinator { decision: Decision; phase: 'idle' | 'collecting'; proposed: Decision; votes: readonly number[] }
interface Backup { record: Decision }

/** What to run. */
export interface RecoveryOptions {
  cycles?: number;
  rms?: number;
  /** With the backup coordinator (the spec's `backup` param); default true, or the variant's. */
  backup?: boolean;
  /** A broken variant of the spec instead of the spec. */
  variant?: string;
  /** The faults to rotate through, one per cycle (default: all that apply). */
  faults?: readonly Fault[];
  /** How long the coordinator stays down before it restarts. */
  restartMs?: number;
  /** How long a cycle may take to resolve. */
  resolveTimeoutMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** The fault injected into a cycle's transaction (see the doc comment). */
export type Fault = 'crash-before-decision' | 'crash-at-decision' | 'crash-after-first-decision' | 'partition';

/** One transaction's outcome. */
export interface CycleReport {
  fault: Fault;
  outcome: Decision | 'mixed' | 'unresolved';
  /** Per participant: ms from its yes vote to its decision (those that voted yes and decided). */
  blockedMs: number[];
  violations: readonly AtomicCommitViolation[];
}

/** The whole run. */
export interface RecoveryReport {
  backup: boolean;
  variant: string | undefined;
  cycles: CycleReport[];
  resolved: number;
  atomic: number;
  committed: number;
  aborted: number;
  blockedP50: number;
  blockedP99: number;
  blockedMax: number;
  ok: boolean;
}

/** The q-quantile of `xs` (nearest rank), 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export async function run(options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const log = options.log ?? console.log;
  const base = await loadBundledSpec('two-phase-recovery');
  if (!base) throw new Error('two-phase-recovery is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;
  const rms = options.rms ?? 3;
  const backup = options.backup ?? (spec.params.backup as boolean);
  const cycles = options.cycles ?? 6;
  const restartMs = options.restartMs ?? 120;
  const faults: readonly Fault[] =
    options.faults ??
    (backup
      ? ['crash-before-decision', 'crash-at-decision', 'crash-after-first-decision', 'partition']
      : ['crash-before-decision', 'crash-at-decision', 'crash-after-first-decision']);
  const reports: CycleReport[] = [];
  for (let i = 0; i < cycles; i++) {
    const fault = faults[i % faults.length]!;
    const r = await cycle(spec, { rms, backup, fault, restartMs, timeoutMs: options.resolveTimeoutMs ?? 5_000, seed: (options.seed ?? 0) + i });
    reports.push(r);
    if (r.violations.length || r.outcome === 'unresolved' || r.outcome === 'mixed') {
      log(`cycle ${i + 1} (${fault}): ${r.outcome}; ${r.violations.map((v) => `${v.property}: ${v.message}`).join('; ') || 'no decision'}`);
    }
  }
  const blocked = reports.flatMap((r) => r.blockedMs);
  const report: RecoveryReport = {
    backup,
    variant: options.variant,
    cycles: reports,
    resolved: reports.filter((r) => r.outcome === 'commit' || r.outcome === 'abort').length,
    atomic: reports.filter((r) => r.violations.length === 0 && r.outcome !== 'mixed').length,
    committed: reports.filter((r) => r.outcome === 'commit').length,
    aborted: reports.filter((r) => r.outcome === 'abort').length,
    blockedP50: quantile(blocked, 0.5),
    blockedP99: quantile(blocked, 0.99),
    blockedMax: blocked.length ? Math.max(...blocked) : 0,
    ok: reports.every((r) => r.violations.length === 0 && (r.outcome === 'commit' || r.outcome === 'abort')),
  };
  log(
    `${options.variant ? `variant ${options.variant}, ` : ''}${backup ? 'with' : 'without'} a backup coordinator, ${rms} participants: ` +
      `${report.resolved}/${cycles} transactions resolved (${report.committed} committed, ${report.aborted} aborted), ` +
      `${report.atomic}/${cycles} atomic; participants blocked p50 ${report.blockedP50.toFixed(1)} ms, p99 ${report.blockedP99.toFixed(1)} ms`,
  );
  return report;
}

interface CycleOptions {
  rms: number;
  backup: boolean;
  fault: Fault;
  restartMs: number;
  timeoutMs: number;
  seed: number;
}

/** One transaction on a fresh cluster, with one fault. */
async function cycle(spec: NonNullable<Awaited<ReturnType<typeof loadBundledSpec>>>, o: CycleOptions): Promise<CycleReport> {
  const events: CommitEvent[] = [];
  const votedAt = new Map<number, number>();
  const blockedMs: number[] = [];
  const last = new Map<number, unknown>();
  let cluster: Cluster | undefined;
  let crashed = false;
  let cut = false;
  let healed: Promise<void> = Promise.resolve();
  let crash: (() => void) | undefined;
  const rmIds: number[] = [];
  const coordinatorId = 0;
  let backupId = -1;

  /** Turns each observed state change into atomic-commit events (and times the participants). */
  const observe = (e: NodeEvent): void => {
    if (!cluster || e.kind !== 'step' || !e.changed) return;
    const id = e.node;
    const now = cluster.state(id);
    const before = last.get(id);
    last.set(id, now);
    if (rmIds.includes(id)) {
      const s = now as Rm;
      const was = (before ?? 'working') as Rm;
      if (s === was) return;
      if (s === 'prepared') {
        events.push({ kind: 'vote', participant: id, vote: 'yes' });
        votedAt.set(id, performance.now());
      } else if (s === 'committed' || s === 'aborted') {
        if (was === 'working') events.push({ kind: 'vote', participant: id, vote: 'no' });
        events.push({ kind: 'decide', participant: id, decision: s === 'committed' ? 'commit' : 'abort' });
        const t = votedAt.get(id);
        if (t !== undefined) blockedMs.push(performance.now() - t);
        if (!crashed && o.fault === 'crash-after-first-decision') crash?.();
      }
    } else if (id === coordinatorId) {
      const s = now as Coordinator;
      const was = before as Coordinator | undefined;
      if (s.decision !== 'none' && s.decision !== was?.decision) events.push({ kind: 'coordinator-decide', decision: s.decision });
      const allVotes = s.votes.length === o.rms && s.decision === 'none' && s.proposed === 'none';
      // (a) Every vote in, before deciding: crash at once (the decision timer dies with it).
      if (!crashed && o.fault === 'crash-before-decision' && allVotes) crash?.();
      // (b) Cut the coordinator off from the participants before it decides, and crash it once the
      // decision is on its disk: logged, but every message that carried it is lost.
      if (o.fault === 'crash-at-decision' && allVotes && !cut) {
        cut = true;
        cluster.partition(coordinatorId, rmIds);
      }
      // (d) Cut the coordinator off from the backup and the last participant for a while, before it decides.
      if (o.fault === 'partition' && allVotes && !cut) {
        cut = true;
        cluster.partition(coordinatorId, [backupId, rmIds.at(-1)!]);
        healed = sleep(o.restartMs).then(() => cluster?.heal());
      }
      if (!crashed && o.fault === 'crash-at-decision' && s.decision !== 'none') {
        crashed = true;
        void cluster.node(coordinatorId).idle().then(() => crash?.());
      }
    } else if (id === backupId) {
      const s = now as Backup;
      const was = before as Backup | undefined;
      // The backup's record is the decision too: the atomic-commit checker holds it to the coordinator's.
      if (s.record !== 'none' && s.record !== was?.record) events.push({ kind: 'coordinator-decide', decision: s.record });
    }
  };

  cluster = await startCluster(spec, {
    transport: 'memory',
    params: { rms: o.rms, backup: o.backup },
    seed: o.seed,
    // The logs are real files; skipping fsync keeps a cycle fast (a crash here is a process crash, not a power loss).
    syncMode: 'none',
    onEvent: (e) => observe(e),
  });
  const c = cluster;
  for (const id of c.nodes) {
    const role = c.layout.roleOf(id)?.name;
    if (role === 'rm') rmIds.push(id);
    if (role === 'backup') backupId = id;
    last.set(id, c.state(id));
  }
  let restarted: Promise<void> = Promise.resolve();
  let back = false;
  crash = () => {
    crashed = true;
    events.push({ kind: 'coordinator-crash' });
    // The crash takes effect at once (timers and held messages are dropped); the restart comes later.
    restarted = c.crash(coordinatorId).then(async () => {
      await sleep(o.restartMs);
      if (cut) c.heal();
      await c.restart(coordinatorId);
      last.set(coordinatorId, c.state(coordinatorId));
      back = true;
    });
  };
  try {
    await c.fire(coordinatorId, 'start');
    // A lock timeout on the first participant once it has voted: a correct participant refuses.
    await c.waitUntil(() => c.state<Rm>(rmIds[0]!) !== 'working', { timeoutMs: o.timeoutMs });
    await c.fire(rmIds[0]!, 'chooseToAbort').catch(() => false);
    const settled = (): boolean => {
      const co = c.state<Coordinator>(coordinatorId);
      return rmIds.every((id) => ['committed', 'aborted'].includes(c.state<Rm>(id) ?? 'working')) && co !== undefined && co.decision !== 'none';
    };
    let resolved = true;
    // Wait for the fault to have happened (and the coordinator to be back), then for every decision.
    const faultDone = (): boolean => (o.fault === 'partition' ? cut : back);
    await c.waitUntil(() => faultDone() || (!crashed && !cut && settled()), { timeoutMs: o.timeoutMs }).catch(() => (resolved = false));
    await restarted;
    await healed;
    await c.waitUntil(settled, { timeoutMs: o.timeoutMs }).catch(() => (resolved = false));
    const finals = rmIds.map((id) => c.state<Rm>(id));
    const outcome: CycleReport['outcome'] = !resolved
      ? 'unresolved'
      : finals.every((s) => s === 'committed')
        ? 'commit'
        : finals.every((s) => s === 'aborted')
          ? 'abort'
          : 'mixed';
    const verdict = checkAtomicCommitEvents(rmIds, events, { complete: resolved });
    return { fault: o.fault, outcome, blockedMs, violations: verdict.violations };
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
  const backup = flag(args, 'backup');
  const r = await run({
    variant: flag(args, 'variant'),
    cycles: num('cycles'),
    rms: num('rms'),
    restartMs: num('restart-ms'),
    ...(flag(args, 'fault') !== undefined && { faults: [flag(args, 'fault') as Fault] }),
    ...(backup !== undefined && { backup: backup !== 'false' }),
  });
  process.exit(r.ok ? 0 : 1);
}
