/**
 * Vitess atomic distributed transactions as a live cluster: one VTGate and three shards on the
 * memory transport, the bundled `vitess` spec's own handlers (the ones the model checker
 * explores). A loop kills the coordinator (VTGate) between PREPARE and COMMIT, and reparents
 * (crashes and restarts) shards holding prepared transactions; the MM's watchdog resolves what
 * was left behind. At the end every transaction must be resolved, none half-committed, and what
 * each client was told must match the shards.
 *
 *   npx tsx --conditions=pacta-source docs/examples/vitess-cluster.ts                       (10 cycles, the watchdog on)
 *   npx tsx --conditions=pacta-source docs/examples/vitess-cluster.ts --cycles 60           (a longer run)
 *   npx tsx --conditions=pacta-source docs/examples/vitess-cluster.ts --no-recovery --settle 1000   (no watchdog: prepared RMs stay blocked)
 *   npx tsx --conditions=pacta-source docs/examples/vitess-cluster.ts --variant commit-prepared-after-reparent
 *
 * Exit 0 when every transaction resolved atomically, 1 otherwise. The variants the fault schedule
 * reproduces here: commit-prepared-after-reparent, decision-not-durable, watchdog-rolls-back-commit
 * (timing-dependent: the watchdog is fired at each RM's prepare and must win a race) and async-index
 * (checked on every committed snapshot while the cluster runs).
 *
 * Each cycle runs one 3-shard transaction under one fault, in turn:
 *   0. VTGate crashes once an RM prepared (before StartCommit): the watchdog rolls back;
 *   1. VTGate crashes once the MM committed the decision (StartCommit): the watchdog finishes the commit;
 *   2. an RM crashes and restarts (a reparent) once VTGate has its vote: it redoes its prepared
 *      transaction from the redo log; a CommitPrepared that arrives first must fail, and the
 *      watchdog finishes the commit;
 *   3. the MM crashes and restarts once an RM prepared: its own open transaction is lost, StartCommit
 *      fails, and everything rolls back.
 * VTGate stays down 30 ms each time. Blocked time: from an RM's prepare to its decision.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkAtomicCommit } from 'pacta-check/checker';
import { startCluster, type Cluster, type NodeEvent } from 'pacta-check/impl';
import { gsiDelete, gsiInsert, participants, txnOp, type VitessOp, type VitessResult, type VitessShard, type VitessWrite } from '../../specs/vitess/vitess.ts';

/** Options of {@link run}. */
export interface RunOptions {
  /** A broken variant of the spec instead of the spec. */
  readonly variant?: string;
  /** Fault cycles (each one 3-shard transaction under a fault). Default 10. */
  readonly cycles?: number;
  /** The MM's watchdog runs. Default true. */
  readonly recovery?: boolean;
  /** How long to wait at the end for the watchdog to resolve everything, ms. Default 4000. */
  readonly settleMs?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** Blocked time of prepared participants, ms. */
export interface Blocked {
  /** Prepared participants that decided. */
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Still prepared at the end (blocked at least `settleMs`). */
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
  /** Transactions still prepared, or with metadata, or open, somewhere at the end. */
  readonly unresolved: readonly string[];
  /** Transactions that break atomic commit (a split decision, a half commit, or a client told "committed" wrongly). */
  readonly broken: readonly string[];
  /** Committed snapshots where the global index and the base table disagreed (gsi workload). */
  readonly indexViolations: number;
  readonly blocked: Blocked;
  readonly seconds: number;
  /** Every transaction resolved, atomically. */
  readonly ok: boolean;
}

const FAULTS = [
  'VTGate crashes once an RM prepared',
  'VTGate crashes once the MM committed the decision',
  'an RM is reparented once VTGate has its vote',
  'the MM restarts once an RM prepared (its open transaction is lost)',
  'the watchdog fires as VTGate gets the last vote (racing StartCommit)',
];

const VARIANT_FAULT: Record<string, number> = {
  'commit-prepared-after-reparent': 2,
  'decision-not-durable': 3,
  'watchdog-rolls-back-commit': 4,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs the cluster through the fault cycles and checks the outcome. */
export async function run(options: RunOptions = {}): Promise<RunReport> {
  const log = options.log ?? console.log;
  const cycles = options.cycles ?? 10;
  const recovery = options.recovery ?? true;
  const base = await loadBundledSpec('vitess');
  if (!base) throw new Error('vitess is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;
  const gsi = spec.params.workload === 'gsi';
  const started = performance.now();

  // Events: each shard's prepared set (redo log) over time, and the fault triggers.
  let cluster: Cluster<VitessOp, VitessResult> | undefined;
  const preparedSince = new Map<string, number>(); // `${shard}/${dtid}` → ms
  const blockedMs: number[] = [];
  let trigger: ((e: NodeEvent) => void) | null = null;
  let indexViolations = 0;
  const onEvent = (e: NodeEvent): void => {
    if (!cluster || e.kind !== 'step') return;
    trackPrepared(cluster, e.node, preparedSince, blockedMs);
    if (gsi && !indexAgrees(cluster)) indexViolations++;
    trigger?.(e);
  };

  cluster = await startCluster<VitessOp, VitessResult>(spec, {
    transport: 'memory', seed: options.seed ?? 1, syncMode: 'none', invokeTimeoutMs: 1000,
    params: { shards: 3, clients: 2, watchdog: recovery },
    // Slower links for commit-prepared-after-reparent: its CommitPrepared must find the RM back up
    // (a restart takes a few ms) but not yet serving.
    faults: options.variant === 'commit-prepared-after-reparent' ? { delayMsMin: 5, delayMsMax: 10 } : { delayMsMin: 1, delayMsMax: 3 },
    onEvent,
  });
  const c = cluster;
  const gate = c.layout.roles.find((r) => r.name === 'vtgate')!.base;
  const shardIds = c.nodes.filter((id) => id !== gate);
  const client = c.client(0);
  log(`vitess${options.variant ? `:${options.variant}` : ''}: VTGate and ${shardIds.length} shards, watchdog ${recovery ? 'on' : 'off'}, ${cycles} fault cycles`);

  try {
    for (let i = 0; i < cycles; i++) {
      const dtid = `${client.id}:${client.modelState.next}`;
      const op = gsi ? (i % 2 === 0 ? gsiInsert(i, i + 1) : gsiDelete(i - 1, i)) : txnOp(3 * i + (i % 3), 3 * i + ((i + 1) % 3), 3 * i + ((i + 2) % 3));
      const writes: readonly VitessWrite[] = op.kind === 'txn' ? op.writes : [];
      const shards = participants(writes, shardIds);
      // A variant gets the fault that exposes it in every cycle.
      const fault = VARIANT_FAULT[options.variant ?? ''] ?? i % 4;
      const rm = shards[1]!;
      let fired: Promise<void> | null = null;
      const onStep = (e: NodeEvent): void => {
        if (fired || e.kind !== 'step' || e.input !== 'message' || !e.changed) return;
        const m = e.payload as { kind: string; dtid?: string; step?: string };
        if (m.dtid !== dtid) return;
        const prepared = m.kind === 'prepare' && e.node === rm;
        const decided = m.kind === 'startCommit';
        const acked = m.kind === 'ack' && m.step === 'prepare' && e.from === rm; // VTGate has the RM's vote
        if (fault === 0 && prepared) fired = bounce(c, gate, 30);
        else if (fault === 1 && decided) fired = bounce(c, gate, 30);
        else if (fault === 2 && acked) fired = bounce(c, rm, 0);
        else if (fault === 3 && prepared) fired = bounce(c, shards[0]!, 0);
        else if (fault === 4 && m.kind === 'ack' && m.step === 'prepare' && e.from === shards.at(-1)) fired = c.fire(shards[0]!, 'watchdog', dtid).then(() => {});
      };
      trigger = onStep;
      const outcome = await client.invoke(op).then((r) => r.kind, () => 'timeout');
      trigger = null;
      if (fired) await fired;
      log(`  cycle ${i + 1}: ${FAULTS[fault]} → client sees ${outcome}`);
    }
    // A transaction with no fault at the end, after which the cluster settles.
    await client.invoke(gsi ? gsiInsert(cycles + 1, cycles + 2) : txnOp(1000, 1001, 1002)).catch(() => undefined);
    await settle(c, shardIds, options.settleMs ?? 4000);
  } finally {
    trigger = null;
  }

  const report = verdict(c, shardIds, preparedSince, blockedMs, indexViolations, (performance.now() - started) / 1000);
  await c.close();
  log(`${report.transactions} transactions: ${report.committed} committed, ${report.aborted} aborted, ${report.unresolved.length} unresolved, ${report.broken.length} not atomic`);
  log(`blocked (RM prepared → decided): p50 ${fmt(report.blocked.p50)} ms, p99 ${fmt(report.blocked.p99)} ms over ${report.blocked.count}; still blocked: ${report.blocked.open}`);
  if (gsi) log(`global index: ${report.indexViolations} committed snapshots where it disagreed with the base table`);
  if (report.broken.length > 0) log(`not atomic: ${report.broken.join('; ')}`);
  log(report.ok ? 'every transaction resolved atomically' : 'NOT every transaction resolved atomically');
  return report;
}

const fmt = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(0));

/** Crashes `id` and restarts it after `downMs`. */
async function bounce(c: Cluster<VitessOp, VitessResult>, id: number, downMs: number): Promise<void> {
  await c.crash(id);
  if (downMs > 0) await sleep(downMs);
  await c.restart(id);
}

/** Records when each (shard, dtid) enters and leaves the shard's redo log (prepared → decided). */
function trackPrepared(c: Cluster<VitessOp, VitessResult>, id: number, since: Map<string, number>, blocked: number[]): void {
  const s = c.state<VitessShard>(id);
  if (!s || !('redo' in s)) return;
  const now = performance.now();
  for (const dtid of s.redo.keys()) if (!since.has(`${id}/${dtid}`)) since.set(`${id}/${dtid}`, now);
  for (const [key, t0] of since) {
    const [node, dtid] = [Number(key.slice(0, key.indexOf('/'))), key.slice(key.indexOf('/') + 1)];
    if (node === id && !s.redo.has(dtid) && t0 >= 0) {
      blocked.push(now - t0);
      since.set(key, -1); // decided
    }
  }
}

/** At a committed snapshot (no metadata, nothing prepared), every row has its index entry and no entry dangles. */
function indexAgrees(c: Cluster<VitessOp, VitessResult>): boolean {
  const states = c.nodes.map((id) => c.state<VitessShard>(id)).filter((s): s is VitessShard => s !== undefined && 'redo' in s);
  if (states.some((s) => s.dt.size > 0 || s.redo.size > 0)) return true;
  const rows = new Set<string>();
  const entries = new Set<string>();
  for (const s of states) for (const [k, v] of s.data) (k.startsWith('r') ? rows.add(`${v - 1}.${k.slice(1)}`) : entries.add(k.slice(1)));
  return rows.size === entries.size && [...rows].every((r) => entries.has(r));
}

/** Waits until no shard holds metadata, a prepared or an open transaction (or `ms` passed). */
async function settle(c: Cluster<VitessOp, VitessResult>, shardIds: readonly number[], ms: number): Promise<void> {
  const quiet = (): boolean => shardIds.every((id) => {
    const s = c.state<VitessShard>(id);
    return s !== undefined && s.dt.size === 0 && s.redo.size === 0 && s.open.size === 0;
  });
  await c.waitUntil(quiet, { timeoutMs: ms, pollMs: 20 }).catch(() => undefined);
}

function verdict(
  c: Cluster<VitessOp, VitessResult>, shardIds: readonly number[], since: Map<string, number>, blocked: number[], indexViolations: number, seconds: number,
): RunReport {
  const states = new Map(shardIds.map((id) => [id, c.state<VitessShard>(id)!]));
  const broken: string[] = [];
  const unresolved: string[] = [];
  let committed = 0;
  let aborted = 0;
  const pending = new Set<string>();
  // The dtid VTGate forms for a call: the client's node id and its request id (the client's
  // calls are numbered 0, 1, 2, ... in order).
  const ops = c.history().operations;
  const seq = new Map<number, number>();
  const ids = ops.map((o) => {
    const n = seq.get(o.process) ?? 0;
    seq.set(o.process, n + 1);
    return `${c.client(o.process).id}:${n}`;
  });
  for (const [k, o] of ops.entries()) {
    if (o.input.kind !== 'txn') continue;
    const id = ids[k]!;
    const shards = participants(o.input.writes, shardIds).filter((x) => !isLookupOnly(o.input, x, shardIds, c));
    const parts = shards.map((sid) => {
      const s = states.get(sid)!;
      const decision = s.committed.includes(id) ? 'commit' as const : s.aborted.includes(id) ? 'abort' as const : null;
      const vote = decision === 'commit' || s.redo.has(id) ? 'yes' as const : null;
      if (s.redo.has(id) || s.dt.has(id) || s.open.has(id)) (unresolved.push(`${id} on shard ${sid}`), pending.add(id));
      return { id: sid, vote, decision };
    });
    const verdictOf = checkAtomicCommit({ participants: parts });
    const anyCommit = parts.some((p) => p.decision === 'commit');
    // A participant that lacks a commit must still be finishable: prepared, with COMMIT recorded on the MM.
    const decided = states.get(shards[0]!)!.dt.get(id)?.state === 'commit';
    const stranded = parts.filter((p) => p.decision !== 'commit' && !(decided && states.get(p.id)!.redo.has(id)));
    if (!verdictOf.ok) broken.push(`${id}: ${verdictOf.violations.map((v) => v.message).join(', ')}`);
    else if (anyCommit && stranded.length > 0) broken.push(`${id}: committed on ${parts.filter((p) => p.decision === 'commit').map((p) => p.id).join(', ')}, lost on ${stranded.map((p) => p.id).join(', ')}`);
    if (o.output?.kind === 'committed' && !parts.every((p) => p.decision === 'commit' || !stranded.includes(p))) broken.push(`${id}: the client was told committed`);
    if (anyCommit) committed++;
    else aborted++;
  }
  const sorted = [...blocked].sort((a, b) => a - b);
  const end = performance.now();
  const all = [...blocked, ...[...since.values()].filter((t) => t >= 0).map((t) => end - t)].sort((a, b) => a - b);
  const open = [...since.values()].filter((t) => t >= 0).length;
  return {
    transactions: committed + aborted, resolved: committed + aborted - pending.size, committed, aborted, unresolved, broken, indexViolations,
    blocked: { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN, p50All: percentile(all, 0.5), p99All: percentile(all, 0.99), open },
    seconds,
    ok: broken.length === 0 && unresolved.length === 0 && indexViolations === 0,
  };
}

/** The async-index variant commits only the base rows in the transaction: the lookup shard is not a participant. */
function isLookupOnly(op: VitessOp, shard: number, shardIds: readonly number[], c: Cluster<VitessOp, VitessResult>): boolean {
  if (op.kind !== 'txn' || c.protocol.variantName !== 'async-index') return false;
  return !participants(op.writes.filter((w) => w.table === 'row'), shardIds).includes(shard);
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
    recovery: !args.includes('--no-recovery'),
    ...(value('--settle') ? { settleMs: Number(value('--settle')) } : {}),
  });
  process.exit(r.ok ? 0 : 1);
}
