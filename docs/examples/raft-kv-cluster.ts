/**
 * A 3-node Raft KV cluster in one process: start it, write and read through the leader, crash
 * the leader, keep going with the new one, restart the old one, restart the client (the same id,
 * a new session), and check the recorded client history for linearizability.
 *
 *   npx tsx docs/examples/raft-kv-cluster.ts            (memory transport)
 *   npx tsx docs/examples/raft-kv-cluster.ts udp        (udp on loopback)
 *
 * The spec is the bundled `raft-kv` (specs/raft/raft-kv.ts), the one the model checker explores;
 * only its model bounds are raised for a live run. Reads go through the log (`reads: 'log'`);
 * try `'lease'` (with `electionTicks: 300`, in ms ticks) for leaseholder reads.
 */
import { pathToFileURL } from 'node:url';
import { loadBundledSpec } from 'pacta-check';
import { checkLinearizability, kvModel, type KvInput, type KvOutput } from 'pacta-check/checker';
import { InvokeTimeout, startCluster, type Cluster } from 'pacta-check/impl';

type Op = { kind: 'put'; key: number; value: number } | { kind: 'get'; key: number };
type Result = { kind: 'ok' } | { kind: 'value'; value: number } | { kind: 'notLeader' };
type Server = { role: 'follower' | 'candidate' | 'leader'; term: number; commit: number };

/** What the example saw: the leaders it used and what the history check said. */
export interface ExampleReport {
  firstLeader: number;
  secondLeader: number;
  acknowledged: number;
  linearizable: boolean;
  lastRead: number;
  /** The client's session incarnation before and after its restart. */
  incarnations: [number, number];
  /** What key 1 held after the restarted client's put. */
  readAfterClientRestart: number;
}

/** Runs the example on `transport`; `log` receives the lines it prints. */
export async function main(transport: 'memory' | 'udp' = 'memory', log: (line: string) => void = console.log): Promise<ExampleReport> {
  const raftKv = await loadBundledSpec('raft-kv');
  if (!raftKv) throw new Error('raft-kv is not a bundled spec of this pacta');
  const cluster: Cluster<Op, Result> = await startCluster<Op, Result>(raftKv, {
    transport,
    nodes: 3,
    // The model's bounds (terms, keys, values) raised for a live run; one client.
    params: { maxTerm: 1_000_000, clients: 1, keys: 2, values: 1_000_000, reads: 'log' },
    invokeTimeoutMs: 500,
  });
  const leader = (): number | undefined => cluster.nodes.find((id) => cluster.state<Server>(id)?.role === 'leader');
  /** Sends `op` to the leader, retrying on notLeader and timeouts (each try is a new call in the history). */
  const call = async (op: Op): Promise<Result> => {
    for (;;) {
      await cluster.waitUntil(() => leader() !== undefined, { timeoutMs: 5_000 });
      try {
        const r = await cluster.client(0).invoke(op, { to: leader()! });
        if (r.kind !== 'notLeader') return r;
      } catch (e) {
        if (!(e instanceof InvokeTimeout)) throw e;
      }
    }
  };

  try {
    const firstLeader = (await cluster.waitUntil(() => leader() !== undefined, { timeoutMs: 5_000 }), leader()!);
    log(`leader: server ${firstLeader + 1} (term ${cluster.state<Server>(firstLeader)!.term})`);
    for (let i = 1; i <= 5; i++) await call({ kind: 'put', key: 0, value: i });
    log(`get 0 → ${JSON.stringify(await call({ kind: 'get', key: 0 }))}`);

    await cluster.crash(firstLeader);
    log(`crashed server ${firstLeader + 1}`);
    await call({ kind: 'put', key: 1, value: 42 });
    const secondLeader = leader()!;
    log(`new leader: server ${secondLeader + 1} (term ${cluster.state<Server>(secondLeader)!.term})`);
    const read = await call({ kind: 'get', key: 0 });
    log(`get 0 → ${JSON.stringify(read)} (the writes acknowledged before the crash survived it)`);

    await cluster.restart(firstLeader);
    await call({ kind: 'put', key: 0, value: 6 });
    await cluster.waitUntil(() => cluster.state<Server>(firstLeader)!.commit === cluster.state<Server>(leader()!)!.commit, { timeoutMs: 5_000 });
    log(`server ${firstLeader + 1} restarted from its log and caught up (commit index ${cluster.state<Server>(firstLeader)!.commit})`);

    // The client process dies and comes back with the same id: it registers a new session
    // incarnation, whose request ids the servers cannot take for the old one's.
    const before = cluster.client(0).incarnation;
    await cluster.restartClient(0);
    await call({ kind: 'put', key: 1, value: 43 });
    const after = cluster.client(0).incarnation;
    const afterRestart = await call({ kind: 'get', key: 1 });
    log(`client restarted: session incarnation ${before} → ${after}; get 1 → ${JSON.stringify(afterRestart)}`);

    // The history, in the shape of the kv model: strings, '' for absent; notLeader answers had no effect.
    const str = (v: number): string => (v === 0 ? '' : String(v));
    const operations = cluster.history().operations
      .filter((o) => o.output?.kind !== 'notLeader')
      .map((o, id) => ({
        ...o,
        id,
        input: (o.input.kind === 'get' ? { f: 'get', key: String(o.input.key) } : { f: 'put', key: String(o.input.key), value: str(o.input.value) }) as KvInput,
        output: (o.output === undefined ? undefined : o.output.kind === 'value' ? str(o.output.value) : null) as KvOutput | undefined,
      }));
    const verdict = checkLinearizability({ operations }, kvModel);
    log(`history: ${operations.length} operations, ${verdict.result}`);
    return {
      firstLeader, secondLeader, acknowledged: operations.filter((o) => o.output !== undefined).length,
      linearizable: verdict.result === 'linearizable', lastRead: read.kind === 'value' ? read.value : -1,
      incarnations: [before, after], readAfterClientRestart: afterRestart.kind === 'value' ? afterRestart.value : -1,
    };
  } finally {
    await cluster.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await main(process.argv[2] === 'udp' ? 'udp' : 'memory');
  process.exit(r.linearizable ? 0 : 1);
}
