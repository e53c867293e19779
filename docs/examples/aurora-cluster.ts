/**
 * Aurora's quorum storage on the executor: a writer, 6 segments (two per availability zone) with
 * durable state, and a read replica, running the handlers `pacta check aurora` explores. Clients
 * commit transactions while the cluster goes through cycles of faults:
 *
 * - an AZ outage (both segments of one AZ crash; every third cycle one more segment of the next
 *   AZ too: AZ+1, when writes stall until it is back);
 * - the writer crashes in the middle of the clients' commits and restarts (recovery: a read
 *   quorum, the recovered VDL, a new epoch, the truncation);
 * - the writer is cut off from every segment, a client commits, the writer crashes before the
 *   network heals, and restarts.
 *
 * Afterwards every acknowledged commit is read back from the read replica's database and looked
 * up on the segments, and the history (commits, then those reads) is checked for
 * linearizability. Exit 0 when no acknowledged commit was lost, 1 otherwise.
 *
 *   npx tsx --conditions=pacta-source docs/examples/aurora-cluster.ts                        (8 cycles, memory transport)
 *   npx tsx --conditions=pacta-source docs/examples/aurora-cluster.ts --cycles 50
 *   npx tsx --conditions=pacta-source docs/examples/aurora-cluster.ts --variant ack-before-vdl   (loses a commit: exit 1)
 *
 * Options: --cycles N, --commits N (per client and cycle), --clients N, --transport memory|udp|tcp,
 * --sync datasync|fsync|none, --seed N, --variant NAME, --json.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec, type NodeId } from 'pacta-check';
import { checkLinearizability, type SequentialModel } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, type Cluster, type NodeEvent } from 'pacta-check/impl';

type Op = { kind: 'commit'; txn: number };
type Result = { kind: 'committed'; lsn: number; epoch: number };
type Rec = { lsn: number; prev: number; pe: number; epoch: number; txn: number; cpl: boolean };
type Txns = readonly (readonly [number, number])[];
type Segment = { failed: boolean; epoch: number; base: number; baseEpoch: number; txns: Txns; log: readonly Rec[] };
type WriterState = { phase: 'boot' | 'read' | 'open'; epoch: number; vdl: number };
type ReplicaState = { applied: number; appliedEpoch: number; txns: Txns };

/** Options of {@link run}. */
export interface AuroraRunOptions {
  /** A broken variant of the spec (`aurora:NAME`); default the protocol itself. */
  readonly variant?: string;
  /** Fault cycles; each crashes and restarts the writer twice. Default 8. */
  readonly cycles?: number;
  /** Commits each client makes per cycle. Default 6. */
  readonly commitsPerCycle?: number;
  readonly clients?: number;
  readonly transport?: 'memory' | 'udp' | 'tcp';
  /** Flush mode of the nodes' durable logs. Default datasync. */
  readonly syncMode?: 'datasync' | 'fsync' | 'none';
  readonly seed?: number;
  /** Commits each client makes before the fault cycles, with no fault (the benchmark's steady state). Default 0. */
  readonly steadyCommits?: number;
  /** Every node's events (the benchmark sizes the writer's messages from them). */
  readonly onEvent?: (event: NodeEvent) => void;
  readonly log?: (line: string) => void;
}

/** What a run saw. */
export interface AuroraRunReport {
  readonly variant: string | null;
  readonly cycles: number;
  readonly writerRestarts: number;
  readonly azOutages: number;
  readonly azPlusOne: number;
  /** Commit calls made (retries included), and commits acknowledged. */
  readonly attempts: number;
  readonly acknowledged: number;
  /** Acknowledged commits missing from the replica's database or from the segments afterwards. */
  readonly lost: readonly { txn: number; lsn: number; epoch: number; onReplica: boolean; segments: number }[];
  /** The history (commits, then one read per transaction from the replica) is linearizable. */
  readonly linearizable: boolean;
  /** Client-side latency of acknowledged commits, ms. */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  /** The writer's `write` messages (log records) that reached a segment. */
  readonly writeFrames: number;
  /** Every byte the writer sent (writes, recovery reads, replica batches, client replies). */
  readonly writerBytesSent: number;
  /** Redo records per commit (one per page the commit's mini-transaction touches). */
  readonly mtrRecords: number;
  readonly seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hasTxn(set: Txns, v: number): boolean {
  for (const [lo, hi] of set) if (v >= lo && v <= hi) return true;
  return false;
}

/** Whether a segment holds transaction `txn`'s commit record (lsn, epoch): in its pages, or on its log. */
function segmentHolds(s: Segment, txn: number, lsn: number, epoch: number): boolean {
  return !s.failed && (hasTxn(s.txns, txn) || s.log.some((r) => r.lsn === lsn && r.epoch === epoch));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * One register per transaction id: `commit` makes it present (or may have, when its outcome is
 * unknown); `read` returns whether it is. Checked per transaction (P-compositional).
 */
type TxnIn = { f: 'commit' | 'read'; txn: number };
const txnModel: SequentialModel<boolean, TxnIn, boolean | null> = {
  name: 'transaction durability',
  init: () => false,
  step: (present, input, output) => {
    if (input.f === 'commit') return { ok: true, next: true };
    return output === undefined || output === present ? { ok: true, next: present } : { ok: false };
  },
  readOnly: (input) => input.f === 'read',
  partition: (input) => input.txn,
  describeOperation: (input, output) => `${input.f}(${input.txn})${output === undefined ? ' -> ?' : input.f === 'read' ? ` -> ${String(output)}` : ''}`,
};

/** Runs the workload and reads every acknowledged commit back. */
export async function run(options: AuroraRunOptions = {}): Promise<AuroraRunReport> {
  const log = options.log ?? console.log;
  const cycles = options.cycles ?? 8;
  const perCycle = options.commitsPerCycle ?? 6;
  const clientCount = options.clients ?? 2;
  const mtrRecords = 2;
  const base = await loadBundledSpec('aurora');
  if (!base) throw new Error('aurora is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;

  // Count the log records the writer ships: each `write` message a segment receives.
  let writeFrames = 0;
  let writerId = -1;
  const onEvent = (e: NodeEvent): void => {
    options.onEvent?.(e);
    if (e.kind === 'step' && e.input === 'message' && e.from === writerId && (e.payload as { kind: string }).kind === 'write') writeFrames++;
  };

  const cluster: Cluster<Op, Result> = await startCluster<Op, Result>(spec, {
    transport: options.transport ?? 'memory',
    clients: clientCount,
    seed: options.seed ?? 1,
    syncMode: options.syncMode ?? 'datasync',
    invokeTimeoutMs: 300,
    // The model's bounds lifted for a live run; segments gossip to fill holes and coalesce what is durable.
    params: {
      clients: clientCount, mtrRecords, lal: 1_000_000, writerCrashes: 0, failures: 0, replicas: 1, membership: false,
      gossip: 'all', coalesce: true, readAll: true,
    },
    ...(options.transport === undefined || options.transport === 'memory' ? { faults: { delayMsMin: 0, delayMsMax: 2 } } : {}),
    onEvent,
  });
  const roleBase = (name: string): NodeId => cluster.layout.roles.find((r) => r.name === name)!.base;
  const writer = roleBase('writer');
  writerId = writer;
  const storage = Array.from({ length: 6 }, (_, i) => roleBase('storage') + i);
  const replica = roleBase('replica');
  const az = (k: number): NodeId[] => [storage[2 * k]!, storage[2 * k + 1]!];
  const started = Date.now();

  let nextTxn = 1;
  let attempts = 0;
  const acked = new Map<number, Result>();
  let writerRestarts = 0;
  let azOutages = 0;
  let azPlusOne = 0;

  /** Commits `txn` until acknowledged or `deadline` (ms) passes; retries after each timeout. */
  const commit = async (c: number, txn: number, deadline: number): Promise<void> => {
    while (Date.now() < deadline) {
      attempts++;
      try {
        const r = await cluster.client(c).invoke({ kind: 'commit', txn });
        acked.set(txn, r);
        return;
      } catch (e) {
        if (!(e instanceof InvokeTimeout)) throw e;
      }
    }
  };
  // The writer's bytes sent, over its incarnations (a restart starts new transport counters).
  let writerBytesSent = 0;
  const crashWriter = async (): Promise<void> => {
    writerBytesSent += cluster.transportStats(writer)?.bytesSent ?? 0;
    await cluster.crash(writer);
  };
  const restartWriter = async (): Promise<void> => {
    await cluster.restart(writer);
    writerRestarts++;
  };

  try {
    await cluster.waitUntil(() => cluster.state<WriterState>(writer)?.phase === 'open', { timeoutMs: 5_000 });
    const steady = options.steadyCommits ?? 0;
    if (steady > 0) {
      await Promise.all(Array.from({ length: clientCount }, async (_, c) => {
        for (let k = 0; k < steady; k++) await commit(c, nextTxn++, Date.now() + 10_000);
      }));
    }
    for (let cycle = 0; cycle < cycles; cycle++) {
      // An AZ outage (AZ+1 every third cycle: one more segment, of the next AZ, for a while).
      const down = az(cycle % 3);
      for (const s of down) await cluster.crash(s);
      azOutages++;
      const plusOne = cycle % 3 === 2 ? az((cycle + 1) % 3)[0]! : undefined;
      if (plusOne !== undefined) {
        await cluster.crash(plusOne);
        azPlusOne++;
      }
      // Clients commit; the writer crashes in the middle of it and restarts.
      const deadline = Date.now() + 4_000;
      const burst = Array.from({ length: clientCount }, async (_, c) => {
        for (let k = 0; k < perCycle; k++) await commit(c, nextTxn++, deadline);
      });
      await sleep(15 + (cycle % 4) * 10);
      await crashWriter();
      if (plusOne !== undefined) {
        await sleep(40);
        await cluster.restart(plusOne);
      }
      await restartWriter();
      await Promise.all(burst);
      for (const s of down) await cluster.restart(s);

      // The writer is cut off from storage, a commit comes in, the writer crashes, the network heals.
      await cluster.waitUntil(() => cluster.state<WriterState>(writer)?.phase === 'open', { timeoutMs: 5_000 });
      cluster.partition([writer], storage);
      const cut = commit(0, nextTxn++, Date.now() + 150);
      await sleep(30);
      await crashWriter();
      await cut;
      cluster.heal();
      await restartWriter();
      log(`cycle ${cycle + 1}: AZ${(cycle % 3) + 1} down${plusOne !== undefined ? ' + 1 (AZ+1)' : ''}, 2 writer restarts, ${acked.size} commits acknowledged so far`);
    }

    // Let the cluster settle: the writer open, one more commit per client (it ships the recovered
    // prefix to the replica), every acknowledged commit on the replica and on 4+ segments.
    await cluster.waitUntil(() => cluster.state<WriterState>(writer)?.phase === 'open', { timeoutMs: 5_000 });
    await Promise.all(Array.from({ length: clientCount }, (_, c) => commit(c, nextTxn++, Date.now() + 3_000)));
    const settled = (): boolean => {
      const r = cluster.state<ReplicaState>(replica);
      if (!r) return false;
      for (const [txn, res] of acked) {
        if (!hasTxn(r.txns, txn)) return false;
        const held = storage.filter((s) => { const st = cluster.state<Segment>(s); return st !== undefined && segmentHolds(st, txn, res.lsn, res.epoch); }).length;
        if (held < 4) return false;
      }
      return true;
    };
    try {
      await cluster.waitUntil(settled, { timeoutMs: 3_000, pollMs: 20 });
    } catch {
      // Report what is missing below.
    }

    // Read back: the replica's database, and the segments.
    const replicaState = cluster.state<ReplicaState>(replica)!;
    const lost: AuroraRunReport['lost'][number][] = [];
    for (const [txn, res] of acked) {
      const onReplica = hasTxn(replicaState.txns, txn);
      const segments = storage.filter((s) => { const st = cluster.state<Segment>(s); return st !== undefined && segmentHolds(st, txn, res.lsn, res.epoch); }).length;
      if (!onReplica || segments < 4) lost.push({ txn, lsn: res.lsn, epoch: res.epoch, onReplica, segments });
    }
    for (const l of lost) log(`LOST: transaction ${l.txn} (acknowledged at LSN ${l.lsn}, epoch ${l.epoch}): on the replica: ${l.onReplica}, on ${l.segments} of 6 segments`);

    // The history: the clients' commits, then one read per transaction from the replica's database.
    const history = cluster.history();
    const readAt = Math.max(...history.operations.map((o) => (Number.isFinite(o.return) ? o.return : o.call))) + 1;
    const ops: { id: number; process: number; call: number; return: number; input: TxnIn; output: boolean | null | undefined }[] =
      history.operations.map((o, id) => ({
        id, process: o.process, call: o.call, return: o.return, input: { f: 'commit', txn: o.input.txn }, output: o.output === undefined ? undefined : null,
      }));
    const txns = [...new Set(history.operations.map((o) => o.input.txn))];
    for (const txn of txns) {
      ops.push({ id: ops.length, process: clientCount, call: readAt, return: readAt + 1, input: { f: 'read', txn }, output: hasTxn(replicaState.txns, txn) });
    }
    const verdict = checkLinearizability({ operations: ops }, txnModel as SequentialModel<boolean, TxnIn, unknown>);
    const latencies = history.operations.filter((o) => o.output !== undefined).map((o) => o.return - o.call).sort((a, b) => a - b);
    const report: AuroraRunReport = {
      variant: options.variant ?? null, cycles, writerRestarts, azOutages, azPlusOne, attempts, acknowledged: acked.size, lost,
      linearizable: verdict.result === 'linearizable',
      latencyMs: {
        p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0,
        mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : 0,
      },
      writeFrames, writerBytesSent: writerBytesSent + (cluster.transportStats(writer)?.bytesSent ?? 0), mtrRecords,
      seconds: (Date.now() - started) / 1000,
    };
    log(`${acked.size} commits acknowledged (${attempts} calls), ${writerRestarts} writer restarts, ${azOutages} AZ outages (${azPlusOne} AZ+1): ` +
      `${lost.length} lost; history ${verdict.result}`);
    return report;
  } finally {
    await cluster.close();
  }
}

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const num = (name: string): number | undefined => (flag(args, name) === undefined ? undefined : Number(flag(args, name)));
  const json = args.includes('--json');
  const report = await run({
    variant: flag(args, '--variant'),
    cycles: num('--cycles'),
    commitsPerCycle: num('--commits'),
    clients: num('--clients'),
    seed: num('--seed'),
    transport: flag(args, '--transport') as AuroraRunOptions['transport'],
    syncMode: flag(args, '--sync') as AuroraRunOptions['syncMode'],
    log: json ? () => {} : console.log,
  });
  if (json) console.log(JSON.stringify(report));
  process.exit(report.lost.length === 0 && report.linearizable ? 0 : 1);
}
