/**
 * The client workload of the live Raft KV tests: `clients` concurrent loops of put / get / cas on
 * a few keys, each loop one call at a time. A `notLeader` answer sends the next call to the
 * server that believes it leads (or the next server); a timeout (the call stays in the history
 * with an unknown outcome) moves on to the next server. And the history in the shape of
 * checker/linearizability's `kvModel` (strings; `notLeader` answers left out: they had no effect).
 */
import type { KvInput, KvOutput } from '../checker/history/index.ts';
import { InvokeTimeout, type Cluster } from '../impl/index.ts';

export type RaftOp =
  | { kind: 'put'; key: number; value: number }
  | { kind: 'get'; key: number }
  | { kind: 'cas'; key: number; from: number; to: number };
export type RaftResult =
  | { kind: 'ok' }
  | { kind: 'value'; value: number; via: 'log' | 'lease' | 'index' }
  | { kind: 'cas'; ok: boolean }
  | { kind: 'notLeader' }
  | { kind: 'readAt'; value: number; ts: number };
export type RaftServer = { role: 'follower' | 'candidate' | 'leader'; term: number; log: readonly unknown[]; commit: number };

/** Counters of a workload; `acked` counts answers other than notLeader, `lease` the reads served under a lease, `index` those served by ReadIndex. */
export interface WorkloadCounts {
  acked: number;
  notLeader: number;
  timeouts: number;
  lease: number;
  index: number;
}

export interface Workload {
  readonly counts: WorkloadCounts;
  /** Latencies (ms) of acknowledged calls, in completion order. */
  readonly latenciesMs: number[];
  /** Stops the loops and waits for their calls in flight. */
  stop(): Promise<void>;
}

/** The server that believes it leads in the highest term, if any is up. */
export function leaderOf(cluster: Cluster<RaftOp, RaftResult>): number | undefined {
  let best: number | undefined;
  let term = -1;
  for (const id of cluster.nodes) {
    const s = cluster.state<RaftServer>(id);
    if (s?.role === 'leader' && s.term > term) {
      best = id;
      term = s.term;
    }
  }
  return best;
}

/**
 * Starts `clients` loops. Values are unique per call (client k writes (k+1)·100000 + i), so a
 * read names the write it saw; a cas expects the latest value any client saw for the key. `mix` weights put, get, cas (default 2 : 2 : 1).
 */
export function startWorkload(
  cluster: Cluster<RaftOp, RaftResult>,
  options: { clients: number; keys: number; seed?: number; mix?: readonly [number, number, number] },
): Workload {
  const counts: WorkloadCounts = { acked: 0, notLeader: 0, timeouts: 0, lease: 0, index: 0 };
  const latenciesMs: number[] = [];
  const [wPut, wGet, wCas] = options.mix ?? [2, 2, 1];
  let stopped = false;
  /** The latest value any client saw per key (a cas expects it, so that some cas succeed). */
  const seen = new Map<number, number>();
  let x = (options.seed ?? 1) >>> 0 || 1;
  const next = (m: number): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), (x >>> 8) % m);
  const loops = Array.from({ length: options.clients }, async (_, k) => {
    let to = cluster.nodes[k % cluster.nodes.length]!;
    let i = 0;
    while (!stopped) {
      const key = next(options.keys);
      const r = next(wPut + wGet + wCas);
      const value = (k + 1) * 100_000 + ++i;
      const op: RaftOp = r < wPut ? { kind: 'put', key, value } : r < wPut + wGet ? { kind: 'get', key } : { kind: 'cas', key, from: seen.get(key) ?? 0, to: value };
      const t0 = performance.now();
      try {
        const res = await cluster.client(k).invoke(op, { to });
        if (res.kind === 'notLeader') {
          counts.notLeader++;
          to = leaderOf(cluster) ?? cluster.nodes[(cluster.nodes.indexOf(to) + 1) % cluster.nodes.length]!;
          await new Promise((done) => setTimeout(done, 5));
        } else {
          counts.acked++;
          latenciesMs.push(performance.now() - t0);
          if (res.kind === 'value' && res.via === 'lease') counts.lease++;
          if (res.kind === 'value' && res.via === 'index') counts.index++;
          if (res.kind === 'value') seen.set(key, res.value);
          else if (op.kind === 'put' || (op.kind === 'cas' && res.kind === 'cas' && res.ok)) seen.set(key, value);
        }
      } catch (e) {
        if (!(e instanceof InvokeTimeout)) throw e;
        counts.timeouts++;
        to = leaderOf(cluster) ?? cluster.nodes[(cluster.nodes.indexOf(to) + 1) % cluster.nodes.length]!;
      }
    }
  });
  return {
    counts,
    latenciesMs,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The cluster's history as kvModel operations: keys and values as strings, 0 as absent (''). */
export function kvHistory(cluster: Cluster<RaftOp, RaftResult>) {
  const str = (v: number): string => (v === 0 ? '' : String(v));
  const operations = cluster.history().operations
    .filter((o) => o.output?.kind !== 'notLeader')
    .map((o, id) => {
      const op = o.input;
      const input: KvInput = op.kind === 'get'
        ? { f: 'get', key: String(op.key) }
        : op.kind === 'put'
          ? { f: 'put', key: String(op.key), value: str(op.value) }
          : { f: 'cas', key: String(op.key), from: str(op.from), to: str(op.to) };
      const out = o.output;
      const output: KvOutput | undefined = out === undefined
        ? undefined
        : out.kind === 'value' ? str(out.value) : out.kind === 'cas' ? out.ok : null;
      return { ...o, id, input, output };
    });
  return { operations };
}
