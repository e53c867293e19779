/**
 * The bank on Percolator: a TSO node, storage nodes and coordinators (TiDB servers) run the
 * bundled `percolator` spec's own handlers on the executor; clients transfer money between
 * accounts and read every balance, while a fault injector partitions coordinators from stores,
 * crashes coordinators (Percolator's client crash: their locks stay behind for others to
 * resolve), and crashes and restarts stores and the TSO (from their durable logs). Then the
 * recorded history is checked:
 * - by the transaction checker (`pacta txcheck`'s code), for snapshot isolation and, since every
 *   transfer writes exactly the accounts it reads, for serializability in commit-timestamp order
 *   (`external-consistency`: a lost update shows there as a G-single cycle with timestamp edges);
 * - for lost updates directly (two committed transfers that read the same balance and overwrote it);
 * - for the bank's total (every read of all accounts sums to the initial total).
 * The history is written as a `pacta-transactions` file for `npx pacta txcheck FILE`.
 *
 *   npx tsx --conditions=pacta-source docs/examples/percolator-cluster.ts                        (exit 0: the history holds)
 *   npx tsx --conditions=pacta-source docs/examples/percolator-cluster.ts --variant lost-update  (exit 1: flagged)
 *   npx tsx --conditions=pacta-source docs/examples/percolator-cluster.ts --seconds 30 --async --clients 8 --out /tmp/bank.json
 *
 * Options: --variant NAME, --seconds S (default 3), --clients N (4), --accounts N (4),
 * --coordinators N (2), --stores N (2), --async, --1pc, --no-faults, --delay-ms MAX (2), --seed N, --out FILE.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkTransactions, makeTransactionHistory } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, type Cluster } from 'pacta-check/impl';
import {
  historyOfCalls, lostUpdates, transactionsDocument, transactionsOf, txn, wrongTotals,
  type TxnCall, type TxnOp, type TxnResult,
} from '../../specs/txn/index.ts';

/** Options of a bank run. */
export interface BankOptions {
  variant?: string;
  /** How long the clients run (ms). */
  durationMs?: number;
  clients?: number;
  accounts?: number;
  coordinators?: number;
  stores?: number;
  async?: boolean;
  onePC?: boolean;
  faults?: boolean;
  /** The memory network's delivery delay range is 0..delayMsMax ms (default 2): wider means more reordering. */
  delayMsMax?: number;
  seed?: number;
  /** Where to write the pacta-transactions file (default: a temporary file). */
  out?: string;
  /** `none` for tests and benchmarks (no fsync); default `datasync`. */
  syncMode?: 'datasync' | 'fsync' | 'none';
  log?: (line: string) => void;
}

/** What a bank run saw. */
export interface BankReport {
  committed: number;
  aborted: number;
  unknown: number;
  /** Committed transactions per second. */
  txnsPerSecond: number;
  /** Commit latency of committed transactions, ms. */
  p50Ms: number;
  p99Ms: number;
  faultsInjected: number;
  snapshotIsolation: boolean;
  /** Serializable in commit-timestamp order (the transaction checker's external-consistency). */
  serializableByTimestamp: boolean;
  anomalies: string[];
  lostUpdates: number;
  wrongTotals: number;
  /** Every check held. */
  ok: boolean;
  historyFile: string;
}

const INITIAL = 100;

/** A small deterministic PRNG (the run's choices; the cluster's own faults are seeded too). */
function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a ^= a << 13;
    a ^= a >>> 17;
    a ^= a << 5;
    return (a >>> 0) / 2 ** 32;
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the bank on a fresh cluster and checks its history. */
export async function main(options: BankOptions = {}): Promise<BankReport> {
  const log = options.log ?? console.log;
  const accounts = options.accounts ?? 4;
  const clientCount = options.clients ?? 4;
  const coordinators = options.coordinators ?? 2;
  const stores = options.stores ?? 2;
  const durationMs = options.durationMs ?? 3_000;
  const seed = options.seed ?? 1;
  const base = await loadBundledSpec('percolator');
  if (!base) throw new Error('percolator is not a bundled spec of this pacta');
  const spec = options.variant ? base.variant(options.variant) : base;
  const cluster: Cluster<TxnOp, TxnResult> = await startCluster<TxnOp, TxnResult>(spec, {
    transport: 'memory',
    params: { stores, coordinators, keys: accounts, clients: clientCount, initial: INITIAL, async: options.async ?? false, onePC: options.onePC ?? false, lockTtl: 0 },
    clients: clientCount,
    seed,
    // Reordering and the odd duplicate; losses come from partitions and crashes.
    faults: { delayMsMin: 0, delayMsMax: options.delayMsMax ?? 2, duplicateRate: 0.01 },
    invokeTimeoutMs: 400,
    syncMode: options.syncMode ?? 'datasync',
  });
  const roleNodes = (role: string) => cluster.nodes.filter((id) => cluster.layout.roleOf(id)?.name === role);
  const tsoNode = roleNodes('tso')[0]!;
  const storeNodes = roleNodes('store');
  const coordNodes = roleNodes('coord');
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const start = Date.now();
  const deadline = start + durationMs;
  let faultsInjected = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  log(`percolator${options.variant ? `:${options.variant}` : ''}: tso, ${stores} stores, ${coordinators} coordinators, ${clientCount} clients, ${accounts} accounts of ${INITIAL}${options.async ? ', async commit' : ''}${options.onePC ? ', 1PC' : ''}`);

  /** One client: transfers between random accounts and reads of all, one at a time, each to a random coordinator. */
  const runClient = async (k: number): Promise<void> => {
    const client = cluster.client(k);
    const all = Array.from({ length: accounts }, (_, i) => i);
    while (Date.now() < deadline) {
      let op: TxnOp;
      if (random() < 0.25) op = txn.read(...all);
      else {
        const from = Math.floor(random() * accounts);
        const to = (from + 1 + Math.floor(random() * (accounts - 1))) % accounts;
        op = txn.transfer(from, to, 1 + Math.floor(random() * 5));
      }
      try {
        await client.invoke(op, { to: pick(coordNodes) });
      } catch (e) {
        if (!(e instanceof InvokeTimeout)) throw e;
      }
    }
  };

  /** The nemesis: one fault at a time, each healed after a while. */
  const runFaults = async (): Promise<void> => {
    while (Date.now() < deadline - 300) {
      await sleep(100 + random() * 150);
      const kind = Math.floor(random() * 4);
      faultsInjected++;
      if (kind === 0) {
        const a = pick(coordNodes);
        const b = pick(storeNodes);
        cluster.partition(a, b);
        await sleep(80 + random() * 120);
        cluster.heal();
      } else {
        const victim = kind === 1 ? pick(coordNodes) : kind === 2 ? pick(storeNodes) : tsoNode;
        await cluster.crash(victim);
        await sleep(30 + random() * 70);
        await cluster.restart(victim);
      }
    }
  };

  try {
    await Promise.all([...Array.from({ length: clientCount }, (_, k) => runClient(k)), ...(options.faults === false ? [] : [runFaults()])]);
  } finally {
    await cluster.close();
  }
  const elapsedS = (Date.now() - start) / 1000;

  // The recorded calls, as transactions: each client's request ids are 0, 1, 2, ... in order.
  const ids = Array.from({ length: clientCount }, (_, k) => cluster.client(k).id);
  const next = new Map<number, number>();
  const calls: TxnCall[] = cluster.history().operations.map((o) => {
    const id = next.get(o.process) ?? 0;
    next.set(o.process, id + 1);
    return { client: ids[o.process]!, id, op: o.input, result: o.output, call: o.call, return: o.return };
  });
  const history = historyOfCalls(calls);
  const records = transactionsOf(history);
  const verdict = checkTransactions(makeTransactionHistory(records), { model: 'external-consistency' });
  const lost = lostUpdates(history);
  const totals = wrongTotals(history, Array.from({ length: accounts }, (_, i) => i), INITIAL);
  const historyFile = options.out ?? join(tmpdir(), `percolator-bank-${process.pid}-${seed}.json`);
  writeFileSync(historyFile, JSON.stringify(transactionsDocument(records)));

  const committed = calls.filter((c) => c.result?.status === 'committed');
  const latencies = committed.map((c) => c.return - c.call).sort((a, b) => a - b);
  const report: BankReport = {
    committed: committed.length,
    aborted: calls.filter((c) => c.result?.status === 'aborted').length,
    unknown: calls.filter((c) => c.result === undefined).length,
    txnsPerSecond: committed.length / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    faultsInjected,
    snapshotIsolation: verdict.models['snapshot-isolation'],
    serializableByTimestamp: verdict.models['external-consistency'],
    anomalies: [...new Set(verdict.anomalies.map((a) => a.type))],
    lostUpdates: lost.length,
    wrongTotals: totals.length,
    ok: false,
    historyFile,
  };
  report.ok = report.snapshotIsolation && report.serializableByTimestamp && report.lostUpdates === 0 && report.wrongTotals === 0;
  log(`${calls.length} transactions in ${elapsedS.toFixed(1)} s under ${faultsInjected} faults: ${report.committed} committed, ${report.aborted} aborted, ${report.unknown} unknown`);
  log(`throughput ${report.txnsPerSecond.toFixed(0)} committed txns/s; commit latency p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms`);
  log(`transaction checker: snapshot isolation ${report.snapshotIsolation ? 'holds' : 'VIOLATED'}; serializable in commit-timestamp order ${report.serializableByTimestamp ? 'holds' : 'VIOLATED'}${report.anomalies.length ? ` (${report.anomalies.join(', ')})` : ''}`);
  log(`lost updates: ${report.lostUpdates}${lost.length ? ` (e.g. account ${lost[0]!.key}: version ${lost[0]!.version} overwritten by ${lost[0]!.writers.join(' and ')})` : ''}; reads of all accounts with a wrong total: ${report.wrongTotals}`);
  log(`history: ${historyFile} (npx pacta txcheck ${historyFile} --model external-consistency)`);
  log(report.ok ? 'the history holds' : 'the history does NOT hold');
  return report;
}

function parseArgs(argv: readonly string[]): BankOptions {
  const o: BankOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a non-negative integer`);
      return n;
    };
    switch (a) {
      case '--variant': o.variant = value(); break;
      case '--seconds': o.durationMs = Number(value()) * 1000; break;
      case '--clients': o.clients = int(); break;
      case '--accounts': o.accounts = int(); break;
      case '--coordinators': o.coordinators = int(); break;
      case '--stores': o.stores = int(); break;
      case '--seed': o.seed = int(); break;
      case '--delay-ms': o.delayMsMax = int(); break;
      case '--out': o.out = value(); break;
      case '--async': o.async = true; break;
      case '--1pc': o.onePC = true; break;
      case '--no-faults': o.faults = false; break;
      default: throw new Error(`unknown option ${a} (see the comment at the top of this file)`);
    }
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let options: BankOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const r = await main(options);
  process.exit(r.ok ? 0 : 1);
}
