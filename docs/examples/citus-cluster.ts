/**
 * Citus two-phase commit as a live cluster: a coordinator and three workers on the memory
 * transport, running the bundled `citus` spec's own handlers (the ones the model checker
 * explores). A loop kills the coordinator between PREPARE and COMMIT, before and after its local
 * commit (the commit point), crashes workers holding prepared transactions, and runs pairs of
 * transactions into a distributed deadlock; the maintenance daemon's recovery and deadlock
 * detector clean up. At the end every transaction must be resolved, none half-committed, the
 * reference table the same on every worker, and what each client was told must match.
 *
 *   npx tsx --conditions=pacta-source docs/examples/citus-cluster.ts                        (12 cycles, recovery on)
 *   npx tsx --conditions=pacta-source docs/examples/citus-cluster.ts --cycles 60
 *   npx tsx --conditions=pacta-source docs/examples/citus-cluster.ts --no-recovery --settle 1000   (orphaned prepared transactions stay)
 *   npx tsx --conditions=pacta-source docs/examples/citus-cluster.ts --variant record-outside-transaction
 *
 * Exit 0 when every transaction resolved atomically, 1 otherwise. The fault schedule reproduces
 * the variants record-outside-transaction (the crashed coordinator's records survive) and
 * recovery-during-prepare (recovery is started as a worker prepares; timing-dependent);
 * recovery-without-recheck needs a COMMIT PREPARED that is lost, which this schedule does not do.
 *
 * Each cycle runs one transaction — a row on two workers and a reference-table row on all
 * three — under one fault, in turn:
 *   0. the last worker aborts its part as the PREPAREs go out (its connection dropped), and the
 *      coordinator crashes once the first worker prepared, before its local commit: recovery rolls
 *      back (no record);
 *   1. the coordinator crashes right after its local commit: recovery commits (the records are there);
 *   2. a worker crashes once its vote is in and restarts: the COMMIT PREPARED sent while it was
 *      down is lost, the backend gives up after 500 ms, and recovery commits it;
 *   3. two clients run transactions writing two rows in opposite orders: a distributed deadlock
 *      that the detector breaks by cancelling the younger.
 * The coordinator stays down 30 ms. Blocked time: from a worker's PREPARE to its decision.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkAtomicCommit } from 'pacta-check/checker';
import { startCluster, type Cluster, type NodeEvent } from 'pacta-check/impl';
import {
  distStmt, participants, refStmt, txnOp, type CitusCoordinator, type CitusOp, type CitusResult, type CitusWorker,
} from '../../specs/citus/citus.ts';

/** Options of {@link run}. */
export interface RunOptions {
  readonly variant?: string;
  /** Fault cycles. Default 12. */
  readonly cycles?: number;
  /** The maintenance daemon's 2PC recovery runs. Default true. */
  readonly recovery?: boolean;
  /** How long to wait at the end for recovery, ms. Default 4000. */
  readonly settleMs?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** Blocked time of prepared workers, ms. */
export interface Blocked {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Still prepared at the end. */
  readonly open: number;
  /**
   * p50 and p99 over every prepared participant, the ones still blocked counted with the time
   * they had been blocked when the run ended (so these are lower bounds when `open > 0`).
   */
  readonly p50All: number;
  readonly p99All: number;
}

/** What a run saw. */
export interface RunReport {
  readonly transactions: number;
  /** Transactions with nothing left anywhere (no prepared or open part, no metadata, no running backend). */
  readonly resolved: number;
  readonly committed: number;
  readonly aborted: number;
  /** Of the aborted: cancelled by the deadlock detector. */
  readonly deadlocks: number;
  readonly unresolved: readonly string[];
  readonly broken: readonly string[];
  /** The reference table differs between workers at the end. */
  readonly referenceDiverged: boolean;
  readonly blocked: Blocked;
  readonly seconds: number;
  readonly ok: boolean;
}

const FAULTS = [
  'a worker drops out as the PREPAREs go out, and the coordinator crashes once another prepared',
  'the coordinator crashes right after its local commit',
  'a worker crashes once its vote is in',
  'two transactions deadlock across workers',
  'recovery starts as the PREPAREs go out',
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

type C = Cluster<CitusOp, CitusResult>;

/** Runs the cluster through the fault cycles and checks the outcome. */
export async function run(options: RunOptions = {}): Promise<RunReport> {
  const log = options.log ?? console.log;
  const cycles = options.cycles ?? 12;
  const recovery = options.recovery ?? true;
  const base = await loadBundledSpec('citus');
  if (!base) throw new Error('citus is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;
  const started = performance.now();

  let cluster: C | undefined;
  const preparedSince = new Map<string, number>();
  const blockedMs: number[] = [];
  let trigger: ((e: NodeEvent) => void) | null = null;
  const onEvent = (e: NodeEvent): void => {
    if (!cluster || e.kind !== 'step') return;
    trackPrepared(cluster, e.node, preparedSince, blockedMs);
    trigger?.(e);
  };
  cluster = await startCluster<CitusOp, CitusResult>(spec, {
    transport: 'memory', seed: options.seed ?? 1, syncMode: 'none', invokeTimeoutMs: 1500,
    // Live bounds: recovery rounds unbounded; a worker's unilateral abort and a failed
    // connection happen only when this program fires them (they have no timer, or a long one).
    params: { workers: 3, clients: 2, recovery, maxRecoveryRounds: 1_000_000_000, unilateralAbort: true, connectionFailures: true, deadlockDetection: true },
    // Wider delays for recovery-during-prepare: its race needs a slow PREPARE on some worker.
    faults: { delayMsMin: 1, delayMsMax: options.variant === 'recovery-during-prepare' ? 20 : 3 },
    onEvent,
  });
  const c = cluster;
  const coordinator = c.layout.roles.find((r) => r.name === 'coordinator')!.base;
  const workerIds = c.nodes.filter((id) => id !== coordinator);
  log(`citus${options.variant ? `:${options.variant}` : ''}: a coordinator and ${workerIds.length} workers, recovery ${recovery ? 'on' : 'off'}, ${cycles} fault cycles`);

  const dtidOf = (k: number): string => `${c.client(k).id}:${c.client(k).modelState.next}`;
  try {
    for (let i = 0; i < cycles; i++) {
      const fault = options.variant === 'recovery-during-prepare' ? 4 : i % 4;
      if (fault === 3) {
        // Two transactions, rows a and b in opposite orders: each locks its first row, then waits.
        const [a, b] = [100 + 2 * i, 101 + 2 * i];
        const outcomes = await Promise.all([
          c.client(0).invoke(txnOp(distStmt(a), distStmt(b))).then((r) => r.kind, () => 'timeout'),
          c.client(1).invoke(txnOp(distStmt(b), distStmt(a))).then((r) => r.kind, () => 'timeout'),
        ]);
        log(`  cycle ${i + 1}: ${FAULTS[fault]} → clients see ${outcomes.join(' and ')}`);
        continue;
      }
      const dtid = dtidOf(0);
      const op = txnOp(distStmt(3 * i), distStmt(3 * i + 1), refStmt(i));
      const shards = participants(op.stmts, workerIds);
      let fired: Promise<void> | null = null;
      let dropped: Promise<unknown> | null = null;
      const onStep = (e: NodeEvent): void => {
        if (fired || e.kind !== 'step' || e.input !== 'message' || !e.changed) return;
        const m = e.payload as { kind: string; dtid?: string; ok?: boolean };
        if (m.dtid !== dtid) return;
        const preparing = e.node === coordinator && m.kind === 'execReply' && c.state<CitusCoordinator>(coordinator)?.txns.get(dtid)?.phase === 'prepare';
        if (fault === 0 && preparing && !dropped) {
          // The last worker's connection drops as the PREPAREs go out: it aborts its part.
          dropped = c.fire(shards.at(-1)!, 'abortIdle', dtid);
        } else if (fault === 0 && m.kind === 'prepare' && e.node === shards[0]) {
          fired = (async () => {
            await c.crash(coordinator);
            await sleep(30);
            await c.restart(coordinator);
          })();
        } else if (fault === 4 && e.node === coordinator && m.kind === 'execReply' && c.state<CitusCoordinator>(coordinator)?.txns.get(dtid)?.phase === 'prepare') {
          // Recovery of the first worker starts as the PREPAREs go out (the race recovery-during-prepare loses).
          fired = c.fire(coordinator, 'recover', shards[0]!).then(() => {});
        } else if (fault === 1 && e.node === coordinator && m.kind === 'prepareReply' && m.ok) {
          const b = c.state<CitusCoordinator>(coordinator)?.txns.get(dtid);
          if (b?.phase === 'postCommit') fired = bounce(c, coordinator, 30);
        } else if (fault === 2 && e.node === coordinator && m.kind === 'prepareReply' && m.ok && e.from === shards.at(-1)) {
          fired = bounce(c, shards.at(-1)!, 0);
        }
      };
      trigger = onStep;
      const outcome = await c.client(0).invoke(op).then((r) => r.kind, () => 'timeout');
      trigger = null;
      if (fired) await fired;
      if (dropped) await dropped;
      log(`  cycle ${i + 1}: ${FAULTS[fault]} → client sees ${outcome}`);
    }
    await c.client(0).invoke(txnOp(distStmt(1000), refStmt(1000))).catch(() => undefined);
    await settle(c, coordinator, workerIds, options.settleMs ?? 4000);
  } finally {
    trigger = null;
  }

  const report = verdict(c, coordinator, workerIds, preparedSince, blockedMs, (performance.now() - started) / 1000);
  await c.close();
  log(`${report.transactions} transactions: ${report.committed} committed, ${report.aborted} aborted (${report.deadlocks} deadlock victims), ${report.unresolved.length} unresolved, ${report.broken.length} not atomic`);
  log(`blocked (worker prepared → decided): p50 ${fmt(report.blocked.p50)} ms, p99 ${fmt(report.blocked.p99)} ms over ${report.blocked.count}; still blocked: ${report.blocked.open}`);
  log(`reference table: ${report.referenceDiverged ? 'placements DIFFER' : report.unresolved.length > 0 ? 'not compared (prepared transactions remain)' : 'the same on every worker'}`);
  if (report.broken.length > 0) log(`not atomic: ${report.broken.join('; ')}`);
  log(report.ok ? 'every transaction resolved atomically' : 'NOT every transaction resolved atomically');
  return report;
}

const fmt = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(0));

async function bounce(c: C, id: number, downMs: number): Promise<void> {
  await c.crash(id);
  if (downMs > 0) await sleep(downMs);
  await c.restart(id);
}

function trackPrepared(c: C, id: number, since: Map<string, number>, blocked: number[]): void {
  const s = c.state<CitusWorker>(id);
  if (!s || !('prepared' in s)) return;
  const now = performance.now();
  for (const dtid of s.prepared.keys()) if (!since.has(`${id}/${dtid}`)) since.set(`${id}/${dtid}`, now);
  for (const [key, t0] of since) {
    const slash = key.indexOf('/');
    if (Number(key.slice(0, slash)) === id && t0 >= 0 && !s.prepared.has(key.slice(slash + 1))) {
      blocked.push(now - t0);
      since.set(key, -1);
    }
  }
}

async function settle(c: C, coordinator: number, workerIds: readonly number[], ms: number): Promise<void> {
  const quiet = (): boolean => {
    const co = c.state<CitusCoordinator>(coordinator);
    return co !== undefined && co.txns.size === 0 && workerIds.every((id) => {
      const s = c.state<CitusWorker>(id);
      return s !== undefined && s.prepared.size === 0 && s.open.size === 0 && s.waiting.size === 0;
    });
  };
  await c.waitUntil(quiet, { timeoutMs: ms, pollMs: 20 }).catch(() => undefined);
}

function verdict(c: C, coordinator: number, workerIds: readonly number[], since: Map<string, number>, blocked: number[], seconds: number): RunReport {
  const co = c.state<CitusCoordinator>(coordinator)!;
  const states = new Map(workerIds.map((id) => [id, c.state<CitusWorker>(id)!]));
  const broken: string[] = [];
  const unresolved: string[] = [];
  let committed = 0;
  let aborted = 0;
  const pending = new Set<string>();
  let deadlocks = 0;
  const ops = c.history().operations;
  const seq = new Map<number, number>();
  for (const o of ops) {
    const n = seq.get(o.process) ?? 0;
    seq.set(o.process, n + 1);
    const id = `${c.client(o.process).id}:${n}`;
    const parts = participants(o.input.stmts, workerIds).map((w) => {
      const s = states.get(w)!;
      const decision = s.committed.includes(id) ? 'commit' as const : s.aborted.includes(id) ? 'abort' as const : null;
      if (s.prepared.has(id) || s.open.has(id) || s.waiting.has(id)) (unresolved.push(`${id} on worker ${w}`), pending.add(id));
      return { id: w, vote: decision === 'commit' || s.prepared.has(id) ? 'yes' as const : null, decision };
    });
    if (co.txns.has(id)) (unresolved.push(`${id}: its backend is still running`), pending.add(id));
    const v = checkAtomicCommit({ participants: parts });
    const anyCommit = parts.some((p) => p.decision === 'commit');
    const stranded = parts.filter((p) => p.decision !== 'commit' && !(states.get(p.id)!.prepared.has(id) && co.records.some((r) => r.dtid === id && r.worker === p.id)));
    if (!v.ok) broken.push(`${id}: ${v.violations.map((x) => x.message).join(', ')}`);
    else if (anyCommit && stranded.length > 0) broken.push(`${id}: committed on ${parts.filter((p) => p.decision === 'commit').map((p) => p.id).join(', ')}, lost on ${stranded.map((p) => p.id).join(', ')}`);
    if (o.output?.kind === 'committed' && !parts.every((p) => p.decision === 'commit' || !stranded.includes(p))) broken.push(`${id}: the client was told committed`);
    if (anyCommit) committed++;
    else aborted++;
    if (o.output?.kind === 'deadlock') deadlocks++;
  }
  // The reference table: the same rows, written by the same transactions, on every worker — at a
  // committed snapshot (with a prepared transaction left, a placement may lack its write yet).
  const refs = workerIds.map((id) => JSON.stringify([...states.get(id)!.data].filter(([k]) => k.startsWith('ref')).sort()));
  const snapshot = workerIds.every((id) => states.get(id)!.prepared.size === 0);
  const referenceDiverged = snapshot && refs.some((r) => r !== refs[0]);
  const sorted = [...blocked].sort((a, b) => a - b);
  const end = performance.now();
  const all = [...blocked, ...[...since.values()].filter((t) => t >= 0).map((t) => end - t)].sort((a, b) => a - b);
  return {
    transactions: committed + aborted, resolved: committed + aborted - pending.size, committed, aborted, deadlocks, unresolved, broken, referenceDiverged,
    blocked: { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN, p50All: percentile(all, 0.5), p99All: percentile(all, 0.99), open: [...since.values()].filter((t) => t >= 0).length },
    seconds,
    ok: broken.length === 0 && unresolved.length === 0 && !referenceDiverged,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const r = await run({
    ...(value('--variant') ? { variant: value('--variant')! } : {}),
    ...(value('--cycles') ? { cycles: Number(value('--cycles')) } : {}),
    ...(value('--settle') ? { settleMs: Number(value('--settle')) } : {}),
    recovery: !args.includes('--no-recovery'),
  });
  process.exit(r.ok ? 0 : 1);
}
