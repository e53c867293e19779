/**
 * A CockroachDB cluster in one process: three nodes (gateways and leaseholders of four one-key
 * ranges), the spec's HLCs over the machine's clock with node 0's clock ahead, clients running
 * blind writes and read-modify-writes through node 0 and reads of every key through the others, frames delayed
 * 0-2 ms and reordered; then the recorded history (wall-clock call and return times) is checked for
 * serializability and, per key, strict serializability (no stale read).
 *
 *   npx tsx docs/examples/cockroach-cluster.ts                       (clocks within max_offset)
 *   npx tsx docs/examples/cockroach-cluster.ts --skew-beyond         (node 0's clock 200 ms ahead, max_offset 20 ms)
 *   npx tsx docs/examples/cockroach-cluster.ts --variant NAME        (a broken variant)
 *   options: --seconds S (default 4) --clients N (4) --seed N
 *
 * Exit 0 when every check passes, 1 when one fails. Spec time units are ms (the executor's clock);
 * the HLC packs (ms, counter) as ms · 100 + counter. Not exercised here: crashes and message loss
 * (the spec has no retries or timeouts: a lost push leaves its range waiting, which is liveness);
 * the model checks coordinator crashes and recovery by pushers.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec, type Protocol } from 'pacta-check';
import { checkTransactions, makeTransactionHistory } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, systemClock } from 'pacta-check/impl';
// The transaction vocabulary has no package entry point yet: imported from the sources.
import { transactionsOfOperations } from '../../specs/txn/index.ts';
import { keyProjection } from '../../specs/cockroach/properties.ts';

type Step = { f: 'r'; key: number } | { f: 'w'; key: number; n: number } | { f: 'add'; key: number; by: number };
type Op = { steps: Step[] };
type Result = { status: 'committed' | 'aborted' | 'unknown'; startTs: number; commitTs: number; reads: unknown[] };

/** What a run did and what the checks said. */
export interface RunReport {
  variant: string | null;
  transactions: number;
  committed: number;
  aborted: number;
  unknown: number;
  serializable: boolean;
  /** Keys whose projection is not strictly serializable (a stale read). */
  staleKeys: number[];
  ok: boolean;
}

const KEYS = 4;
const NODES = 3;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link main}. */
export interface RunOptions {
  variant?: string;
  seconds?: number;
  clients?: number;
  /** Node 0's clock 200 ms ahead while the cluster assumes max_offset 20 ms. */
  skewBeyond?: boolean;
  seed?: number;
  log?: (line: string) => void;
}

/** Runs the workload on a live cluster and checks its history. */
export async function main(o: RunOptions = {}): Promise<RunReport> {
  const log = o.log ?? console.log;
  const clients = o.clients ?? 4;
  const random = prng(o.seed ?? 1);
  const base = (await loadBundledSpec('cockroach')) as Protocol | undefined;
  if (!base) throw new Error('cockroach is not a bundled spec of this pacta');
  const spec = o.variant ? base.variant(o.variant) : base;
  const maxOffsetMs = 20;
  const skewMs = o.skewBeyond ? 200 : 10;
  const cluster = await startCluster<Op, Result>(spec, {
    transport: 'memory',
    clock: systemClock(),
    params: { nodes: NODES, keys: KEYS, clients, maxOffset: maxOffsetMs, skew: skewMs, writes: true, reads: true, rmw: true, leaseTransfers: 0, parallelCommits: false },
    seed: o.seed ?? 1,
    invokeTimeoutMs: 1000,
    syncMode: 'none',
    faults: { lossRate: 0, delayMsMin: 0, delayMsMax: 2 },
  });
  try {
    log(`cockroach${o.variant ? `:${o.variant}` : ''}: ${NODES} nodes, ${KEYS} ranges, ${clients} clients, node 0 ${skewMs} ms ahead, max_offset ${maxOffsetMs} ms`);
    const deadline = Date.now() + (o.seconds ?? 4) * 1000;
    const op = (): Op => {
      const x = random();
      const key = Math.floor(random() * KEYS);
      if (x < 0.4) return { steps: [{ f: 'w', key, n: 1 }] };
      if (x < 0.6) return { steps: [{ f: 'add', key, by: 1 }] };
      return { steps: Array.from({ length: KEYS }, (_, k) => ({ f: 'r' as const, key: k })) };
    };
    await Promise.all(Array.from({ length: clients }, async (_, k) => {
      const c = cluster.client(k);
      while (Date.now() < deadline) {
        try {
          // Writes go through node 0 (the fast clock), reads through the others: the pattern a skew exposes.
          const next = op();
          const to = next.steps.some((s) => s.f !== 'r') ? 0 : 1 + Math.floor(random() * (NODES - 1));
          await c.invoke(next, { to });
        } catch (e) {
          if (!(e instanceof InvokeTimeout)) throw e;
        }
      }
    }));
    const ops = cluster.history().operations;
    const client = (k: number): number => cluster.layout.clients!.role.base + k;
    const all = transactionsOfOperations(ops, { client, stamp: () => false });
    const ser = checkTransactions(makeTransactionHistory(all), { model: 'serializable', exhaustive: false });
    const staleKeys: number[] = [];
    for (let k = 0; k < KEYS; k++) {
      const r = checkTransactions(makeTransactionHistory(keyProjection(all, k)), { model: 'strict-serializable', exhaustive: false });
      if (!r.valid) staleKeys.push(k);
    }
    const count = (s: string): number => ops.filter((x) => (x.output?.status ?? 'unknown') === s).length;
    const report: RunReport = {
      variant: o.variant ?? null, transactions: ops.length, committed: count('committed'), aborted: count('aborted'), unknown: count('unknown'),
      serializable: ser.valid, staleKeys, ok: ser.valid && staleKeys.length === 0,
    };
    log(`${report.transactions} transactions: ${report.committed} committed, ${report.aborted} aborted, ${report.unknown} unknown`);
    log(`serializable: ${ser.valid}; stale reads on keys: ${staleKeys.length ? staleKeys.join(', ') : 'none'}`);
    return report;
  } finally {
    await cluster.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const report = await main({
    variant: arg('--variant'),
    seconds: arg('--seconds') ? Number(arg('--seconds')) : undefined,
    clients: arg('--clients') ? Number(arg('--clients')) : undefined,
    seed: arg('--seed') ? Number(arg('--seed')) : undefined,
    skewBeyond: args.includes('--skew-beyond'),
  });
  process.exit(report.ok ? 0 : 1);
}
