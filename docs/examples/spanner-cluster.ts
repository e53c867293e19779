/**
 * A Spanner cluster in one process: two Paxos groups of three replicas and a frontend (the client
 * library), TrueTime on the machine's clock with ε = 5 ms and every clock off by up to 4 ms (the
 * replicas' ahead, the frontend's behind: within ε, so TrueTime holds), clients running
 * cross-group transfers, strong reads and snapshot reads while a leader crashes and restarts and
 * another is cut off from its followers, with 1% of frames lost and the rest delayed 0-2 ms; then
 * the recorded history (wall-clock call and return times) is checked.
 *
 *   npx tsx docs/examples/spanner-cluster.ts                          (the correct protocol)
 *   npx tsx docs/examples/spanner-cluster.ts --variant no-commit-wait (a broken variant)
 *   options: --seconds S (default 6) --clients N (4) --epsilon MS (5) --skew MS (ε − 1) --no-faults
 *            --transport udp --seed N
 *
 * The skew is what makes a broken variant show on a loaded machine: without commit wait a commit
 * is answered up to 2ε before its timestamp passes, and a strong read that starts in that window
 * (at the slow frontend's TT.now().latest) reads below the commit. With exact clocks and ε small
 * next to the round trips of a loaded machine, that window can be empty.
 *
 * Exit 0 when the history is externally consistent (strictly serializable, the read-write
 * transactions' commit timestamps in real-time order), serializable with the snapshot reads, and
 * every committed read of all accounts sums to the initial total; 1 when not.
 *
 * The spec is the bundled `spanner` (specs/spanner/spanner.ts), the one the model checker explores,
 * run with its live-run machinery on (`timeouts`: heartbeats, elections, a coordinator that gives
 * up on missing votes, a frontend that abandons a transaction stuck reading). Each node's
 * `out.trueTime()` is [now − ε, now + ε] around its own clock reading (the interval
 * impl/clock/trueTime.ts computes). The machine's clock is this run's true time (every node's
 * clock is an offset from it), and the run confirms on it, from the outside, that every commit was
 * answered only once true time had passed its timestamp: what commit wait promises. (A TrueTime
 * of the client's own could not confirm it: its `after(s)` waits for true time to pass s + ε,
 * which commit wait at a coordinator whose clock runs fast does not, and need not, wait for.)
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec, type Protocol } from 'pacta-check';
import { checkTransactions, makeTransactionHistory, type TransactionAnomaly } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, systemClock, type Clock, type ClientHistory, type Cluster } from 'pacta-check/impl';
// The transaction vocabulary has no package entry point yet: imported from the sources.
import { transactionsOfOperations } from '../../specs/txn/index.ts';

type Step = { f: 'r'; key: number } | { f: 'w'; key: number; n: number } | { f: 'add'; key: number; by: number };
/** A Spanner transaction: its steps, and how it runs. */
export interface Op {
  steps: Step[];
  mode: 'rw' | 'strong' | 'snapshot';
}
type Value = { client: number; id: number; n: number };
/** The answer to a transaction. */
export interface Result {
  status: 'committed' | 'aborted' | 'unknown';
  startTs: number;
  commitTs: number;
  reads: (Value | null)[];
}
type Replica = { role: 'leader' | 'follower' | 'candidate'; epoch: number };

/** What the history checks found. */
export interface Verdict {
  /** Strictly serializable, and the read-write transactions' commit timestamps in real-time order. */
  externallyConsistent: boolean;
  /** Serializable, snapshot reads included. */
  serializable: boolean;
  /** Every committed read of all accounts sums to the initial total. */
  bankTotal: boolean;
  /** Each anomaly found, in words. */
  anomalies: string[];
  ok: boolean;
}

/** What a run did and what the checks said. */
export interface RunReport {
  variant: string | null;
  transactions: number;
  committed: number;
  aborted: number;
  unknown: number;
  readOnly: number;
  /** Commits answered before true time (the machine's clock) had passed their timestamp. */
  earlyCommits: number;
  epochs: number[];
  /** Median latency of committed read-write transactions, ms. */
  commitP50Ms: number;
  verdict: Verdict;
}

const describe = (a: TransactionAnomaly): string => a.description;

/**
 * Checks a recorded history: external consistency on the read-write and strong read-only
 * transactions (commit timestamps on the read-write ones), serializability on all, the bank total.
 */
export function verdictOf(history: ClientHistory<Op, Result>, clientBase: number, keys: number, initial: number): Verdict {
  const ops = history.operations;
  const client = (k: number): number => clientBase + k;
  const strict = transactionsOfOperations(ops, { client, keep: (op) => (op as Op).mode !== 'snapshot', stamp: (op) => (op as Op).mode === 'rw' });
  const all = transactionsOfOperations(ops, { client, stamp: () => false });
  // exhaustive: false searches only what each model forbids (snapshot reads may legitimately trail real time)
  const ext = checkTransactions(makeTransactionHistory(strict), { model: 'external-consistency', exhaustive: false });
  const ser = checkTransactions(makeTransactionHistory(all), { model: 'serializable', exhaustive: false });
  let bankTotal = true;
  for (const o of ops) {
    if (o.output?.status !== 'committed' || o.input.mode === 'rw' || o.input.steps.length !== keys) continue;
    const sum = o.output.reads.reduce((acc, v) => acc + (v === null ? initial : v.n), 0);
    if (sum !== keys * initial) bankTotal = false;
  }
  const anomalies = [...ext.anomalies, ...ser.anomalies]
    .filter((a, i, list) => list.findIndex((b) => b.type === a.type) === i)
    .map(describe);
  if (!bankTotal) anomalies.push('a read of all accounts does not sum to the initial total');
  return { externallyConsistent: ext.valid, serializable: ser.valid, bankTotal, anomalies, ok: ext.valid && ser.valid && bankTotal };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
}

/** A small deterministic PRNG (mulberry32), so a seed repeats a workload. */
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

/** The run's parameters (the model's bounds raised for a live run). */
const GROUPS = 2;
const REPLICAS = 3;
const KEYS = 4;
const INITIAL = 100;

async function spanner(variant: string | undefined): Promise<Protocol> {
  const base = await loadBundledSpec('spanner');
  if (!base) throw new Error('spanner is not a bundled spec of this pacta');
  return variant ? base.variant(variant) : base;
}

/** The leader of group `g` now, if one is up. */
function leaderOf(cluster: Cluster<Op, Result>, g: number): number | undefined {
  for (let i = 0; i < REPLICAS; i++) {
    const id = g * REPLICAS + i;
    if (cluster.state<Replica>(id)?.role === 'leader') return id;
  }
  return undefined;
}

/** Options of {@link main}. */
export interface RunOptions {
  variant?: string;
  transport?: 'memory' | 'udp';
  seconds?: number;
  clients?: number;
  /** TrueTime's ε in ms. */
  epsilonMs?: number;
  /** Clock error in ms (at most ε for a correct TrueTime): the replicas' clocks run ahead by it, the frontend's behind. */
  skewMs?: number;
  /** Crash and restart a leader, partition another from its followers, lose and delay frames. */
  faults?: boolean;
  seed?: number;
  log?: (line: string) => void;
}

/** Runs the workload on a live cluster; see the file's comment. */
export async function main(o: RunOptions = {}): Promise<RunReport> {
  const log = o.log ?? console.log;
  const seconds = o.seconds ?? 6;
  const clients = o.clients ?? 4;
  const epsilonMs = o.epsilonMs ?? 5;
  const skewMs = o.skewMs ?? Math.max(0, epsilonMs - 1);
  const faults = o.faults ?? true;
  const transport = o.transport ?? 'memory';
  const random = prng(o.seed ?? 1);
  const clock: Clock<number> = systemClock();
  const cluster = await startCluster<Op, Result>(await spanner(o.variant), {
    transport,
    clock,
    params: {
      groups: GROUPS, replicas: REPLICAS, keys: KEYS, clients, initial: INITIAL, staleness: 20,
      maxEpoch: 1_000_000, followerReads: true, timeouts: true,
    },
    trueTimeEpsilon: epsilonMs, // spec time units are ms (tickMs 1)
    seed: o.seed ?? 1,
    invokeTimeoutMs: 1500,
    syncMode: 'none',
    ...(transport === 'memory' && faults ? { faults: { lossRate: 0.01, delayMsMin: 0, delayMsMax: 2 } } : {}),
  });
  // Spec timestamps count ms from the cluster's start: a node's reading gives that start (to 1 ms, on the late side).
  const epochMs = clock.now() - cluster.node(0).now();
  let earlyCommits = 0;
  const frontend = GROUPS * REPLICAS;
  for (let id = 0; id < frontend; id++) cluster.node(id).clockOffset = skewMs;
  cluster.node(frontend).clockOffset = -skewMs;
  try {
    log(`spanner${o.variant ? `:${o.variant}` : ''}: ${GROUPS} groups × ${REPLICAS} replicas, ${clients} clients, ε = ${epsilonMs} ms, clocks ±${skewMs} ms, ${transport}${faults ? ', faults' : ''}`);
    const deadline = Date.now() + seconds * 1000;
    const op = (): Op => {
      const x = random();
      const all = Array.from({ length: KEYS }, (_, key) => ({ f: 'r' as const, key }));
      if (x < 0.5) {
        const a = Math.floor(random() * KEYS);
        const b = (a + 1 + 2 * Math.floor(random() * (KEYS / 2))) % KEYS; // a key of the other group (the other parity)
        const by = 1 + Math.floor(random() * 5);
        return { steps: [{ f: 'add', key: a, by: -by }, { f: 'add', key: b, by }], mode: 'rw' };
      }
      return { steps: all, mode: x < 0.75 ? 'strong' : 'snapshot' };
    };
    const worker = async (k: number): Promise<void> => {
      const c = cluster.client(k);
      while (Date.now() < deadline) {
        try {
          const input = op();
          const r = await c.invoke(input, { to: frontend });
          // A read-write commit is answered only once true time is past its timestamp (commit wait).
          if (input.mode === 'rw' && r.status === 'committed' && clock.now() - epochMs <= r.commitTs) earlyCommits++;
        } catch (e) {
          if (!(e instanceof InvokeTimeout)) throw e;
        }
      }
    };
    const nemesis = async (): Promise<void> => {
      if (!faults) return;
      const at = (f: number): Promise<void> => new Promise((done) => setTimeout(done, Math.max(0, deadline - seconds * 1000 * (1 - f) - Date.now())));
      await at(0.2);
      const l0 = leaderOf(cluster, 0);
      if (l0 !== undefined) {
        await cluster.crash(l0);
        log(`crashed replica ${l0} (leader of group 0)`);
        await at(0.4);
        await cluster.restart(l0);
        log(`restarted replica ${l0} from its log`);
      }
      await at(0.5);
      const l1 = leaderOf(cluster, 1);
      if (l1 !== undefined) {
        const others = [0, 1, 2].map((i) => REPLICAS + i).filter((id) => id !== l1);
        cluster.partition(l1, others);
        log(`partitioned replica ${l1} (leader of group 1) from its followers`);
        await at(0.7);
        cluster.heal();
        log('healed');
      }
    };
    await Promise.all([...Array.from({ length: clients }, (_, k) => worker(k)), nemesis()]);
    await cluster.idle();

    const history = cluster.history();
    const ops = history.operations;
    const verdict = verdictOf(history, cluster.layout.clients!.role.base, KEYS, INITIAL);
    const report: RunReport = {
      variant: o.variant ?? null,
      transactions: ops.length,
      committed: ops.filter((x) => x.output?.status === 'committed').length,
      aborted: ops.filter((x) => x.output?.status === 'aborted').length,
      unknown: ops.filter((x) => x.output === undefined).length,
      readOnly: ops.filter((x) => x.input.mode !== 'rw' && x.output?.status === 'committed').length,
      earlyCommits,
      epochs: Array.from({ length: GROUPS }, (_, g) => Math.max(...[0, 1, 2].map((i) => cluster.state<Replica>(g * REPLICAS + i)?.epoch ?? 0))),
      commitP50Ms: median(ops.filter((x) => x.input.mode === 'rw' && x.output?.status === 'committed').map((x) => x.return - x.call)),
      verdict,
    };
    log(`history: ${report.transactions} transactions, ${report.committed} committed (${report.readOnly} read-only), ${report.aborted} aborted, ${report.unknown} unknown; leader epochs ${report.epochs.join(', ')}`);
    log(`read-write commits: median ${report.commitP50Ms.toFixed(1)} ms; answered before true time passed s: ${earlyCommits}`);
    log(`external consistency: ${verdict.externallyConsistent ? 'holds' : 'VIOLATED'}; serializable: ${verdict.serializable ? 'yes' : 'NO'}; bank total: ${verdict.bankTotal ? 'kept' : 'BROKEN'}`);
    for (const a of verdict.anomalies.slice(0, 5)) log(`  ${a}`);
    return report;
  } finally {
    await cluster.close();
  }
}

/**
 * The deterministic run the test uses: a simulated clock, ε = 5 ticks, the coordinator's clock 4
 * ticks fast and the frontend's 4 slow (both within ε, so TrueTime is still correct), one
 * cross-group transfer and then one strong read of both accounts. The correct protocol's commit
 * wait makes the read see the transfer; without it (`no-commit-wait`) the read, at the slow
 * frontend's TT.now().latest, falls below the transfer's timestamp and misses it.
 */
export async function skewedRun(variant?: string): Promise<{ verdict: Verdict; commitTs: number; readTs: number; reads: (Value | null)[] }> {
  const cluster = await startCluster<Op, Result>(await spanner(variant), {
    transport: 'memory', clock: 'simulated', trueTimeEpsilon: 5, syncMode: 'none', seed: 3,
    params: { groups: 2, replicas: 1, keys: 2, clients: 2, initial: INITIAL, maxEpoch: 0, timeouts: false },
  });
  const clock = cluster.clock as Clock<number> & { advance(ms: number): number };
  const drive = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const r = p.finally(() => (done = true));
    for (let i = 0; i < 10_000 && !done; i++) {
      await cluster.idle();
      clock.advance(1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return r;
  };
  try {
    cluster.node(0).clockOffset = 4; // group 0's leader: the transfer's coordinator
    cluster.node(2).clockOffset = -4; // the frontend
    clock.advance(20);
    const t = await drive(cluster.client(0).invoke({ steps: [{ f: 'add', key: 0, by: -1 }, { f: 'add', key: 1, by: 1 }], mode: 'rw' }, { timeoutMs: 100_000 }));
    const r = await drive(cluster.client(1).invoke({ steps: [{ f: 'r', key: 0 }, { f: 'r', key: 1 }], mode: 'strong' }, { timeoutMs: 100_000 }));
    return { verdict: verdictOf(cluster.history(), cluster.layout.clients!.role.base, 2, INITIAL), commitTs: t.commitTs, readTs: r.commitTs, reads: r.reads };
  } finally {
    await cluster.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const number = (name: string): number | undefined => (value(name) === undefined ? undefined : Number(value(name)));
  const r = await main({
    ...(value('--variant') ? { variant: value('--variant')! } : {}),
    transport: value('--transport') === 'udp' ? 'udp' : 'memory',
    ...(number('--seconds') !== undefined ? { seconds: number('--seconds')! } : {}),
    ...(number('--clients') !== undefined ? { clients: number('--clients')! } : {}),
    ...(number('--epsilon') !== undefined ? { epsilonMs: number('--epsilon')! } : {}),
    ...(number('--skew') !== undefined ? { skewMs: number('--skew')! } : {}),
    ...(number('--seed') !== undefined ? { seed: number('--seed')! } : {}),
    faults: !args.includes('--no-faults'),
  });
  process.exit(r.verdict.ok ? 0 : 1);
}
