/**
 * CockroachDB's transaction layer on the executor: committed transactions per second and the
 * restart rate as max_offset and the injected clock skew vary.
 *
 * Each cell runs the workload of docs/examples/cockroach-cluster.ts (3 nodes, 4 ranges, the memory
 * transport, frames delayed 0-2 ms; writes and read-modify-writes through node 0, reads of every
 * key through the others) for a few seconds, with node 0's clock `skew` ms ahead and the cluster
 * assuming `maxOffset` ms. Restarts are counted where the gateway learns of them: an `uncertain`
 * reply (a read met a value in its uncertainty interval and moves its timestamp up) and a
 * `refreshed` reply that fails (the refresh found a newer write: the transaction aborts). The
 * restart rate is both per committed transaction. A first, discarded cell warms the process up. The history is checked for serializability,
 * as the example does (a skew within max_offset must keep it).
 *
 *   npx tsx --conditions=pacta-source bench/cockroach.ts [--seconds N] [--json]
 */
import { loadBundledSpec, type Protocol } from 'pacta-check';
import { checkTransactions, makeTransactionHistory } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, systemClock } from 'pacta-check/impl';
import { defineProtocol } from '../specs/core/index.ts';
import { transactionsOfOperations } from '../specs/txn/index.ts';
import { num, table } from '../cli/format.ts';
import { xoshiro128ss } from '../impl/net/prng.ts';

type Step = { f: 'r'; key: number } | { f: 'w'; key: number; n: number } | { f: 'add'; key: number; by: number };
type Op = { steps: Step[] };
type Result = { status: 'committed' | 'aborted' | 'unknown' };

const KEYS = 4;
const NODES = 3;
const CLIENTS = 4;
const si = process.argv.indexOf('--seconds');
const seconds = si >= 0 ? Number(process.argv[si + 1]) : 3;
const json = process.argv.includes('--json');

/** The bundled spec with its nodes' message handler counting the replies that mean a restart. */
function counted(base: Protocol, counts: { uncertain: number; refreshFailed: number }): Protocol {
  const node = base.roles.node!;
  const onMessage = node.onMessage!;
  return defineProtocol({
    ...base,
    roles: {
      ...base.roles,
      node: {
        ...node,
        onMessage: (s, from, m, out, ctx) => {
          const msg = m as { kind: string; ok?: boolean };
          if (msg.kind === 'uncertain') counts.uncertain++;
          else if (msg.kind === 'refreshed' && msg.ok === false) counts.refreshFailed++;
          return onMessage(s, from, m, out, ctx);
        },
      },
    },
  });
}

interface Cell {
  maxOffsetMs: number;
  skewMs: number;
  committed: number;
  aborted: number;
  txnsPerSecond: number;
  uncertain: number;
  refreshFailed: number;
  restartsPerCommit: number;
  serializable: boolean;
}

async function cell(base: Protocol, maxOffsetMs: number, skewMs: number): Promise<Cell> {
  const counts = { uncertain: 0, refreshFailed: 0 };
  const rng = xoshiro128ss(1);
  const random = (): number => rng.nextFloat();
  const cluster = await startCluster<Op, Result>(counted(base, counts), {
    transport: 'memory',
    clock: systemClock(),
    params: { nodes: NODES, keys: KEYS, clients: CLIENTS, maxOffset: maxOffsetMs, skew: skewMs, writes: true, reads: true, rmw: true, leaseTransfers: 0, parallelCommits: false },
    seed: 1,
    invokeTimeoutMs: 1000,
    syncMode: 'none',
    faults: { lossRate: 0, delayMsMin: 0, delayMsMax: 2 },
  });
  try {
    const started = Date.now();
    const deadline = started + seconds * 1000;
    const op = (): Op => {
      const x = random();
      const key = Math.floor(random() * KEYS);
      if (x < 0.4) return { steps: [{ f: 'w', key, n: 1 }] };
      if (x < 0.6) return { steps: [{ f: 'add', key, by: 1 }] };
      return { steps: Array.from({ length: KEYS }, (_, k) => ({ f: 'r' as const, key: k })) };
    };
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, k) => {
        const c = cluster.client(k);
        while (Date.now() < deadline) {
          try {
            const next = op();
            const to = next.steps.some((s) => s.f !== 'r') ? 0 : 1 + Math.floor(random() * (NODES - 1));
            await c.invoke(next, { to });
          } catch (e) {
            if (!(e instanceof InvokeTimeout)) throw e;
          }
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    const ops = cluster.history().operations;
    const client = (k: number): number => cluster.layout.clients!.role.base + k;
    const ser = checkTransactions(makeTransactionHistory(transactionsOfOperations(ops, { client, stamp: () => false })), { model: 'serializable', exhaustive: false });
    const count = (s: string): number => ops.filter((x) => ((x.output as Result | undefined)?.status ?? 'unknown') === s).length;
    const committed = count('committed');
    return {
      maxOffsetMs,
      skewMs,
      committed,
      aborted: count('aborted'),
      txnsPerSecond: committed / elapsed,
      uncertain: counts.uncertain,
      refreshFailed: counts.refreshFailed,
      restartsPerCommit: committed ? (counts.uncertain + counts.refreshFailed) / committed : 0,
      serializable: ser.valid,
    };
  } finally {
    await cluster.close();
  }
}

const base = (await loadBundledSpec('cockroach')) as Protocol | undefined;
if (!base) throw new Error('cockroach is not a bundled spec of this pacta');
// A discarded first cell: the first cluster of the process runs cold (module loading, JIT).
await cell(base, 20, 0);
const cells: Cell[] = [];
for (const maxOffsetMs of [5, 20, 100]) {
  for (const skewMs of [0, Math.round(maxOffsetMs / 2), maxOffsetMs]) cells.push(await cell(base, maxOffsetMs, skewMs));
}
if (json) console.log(JSON.stringify(cells, null, 1));
else {
  console.log(`${NODES} nodes, ${KEYS} ranges, ${CLIENTS} clients, ${seconds} s per cell, memory transport (0-2 ms delays); node 0 skew ms ahead`);
  console.log(
    table(
      ['max_offset', 'skew', 'committed', 'txns/s', 'uncertainty restarts', 'failed refreshes', 'restarts / commit', 'serializable'],
      cells.map((c) => [`${c.maxOffsetMs} ms`, `${c.skewMs} ms`, num(c.committed), c.txnsPerSecond.toFixed(0), num(c.uncertain), num(c.refreshFailed), c.restartsPerCommit.toFixed(3), String(c.serializable)]),
    ),
  );
}
