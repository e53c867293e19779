/**
 * The dependency graph of a transaction history (Adya's direct serialization graph, as Elle
 * builds it for rw-registers), in graphology: a node per transaction that took effect, and
 * edges `ww` (overwrote a version), `wr` (read a version), `rw` (read a version another
 * transaction overwrote), plus `rt` (finished before the other began) and `ts` (smaller commit
 * timestamp) when real time or timestamps are to be checked.
 *
 * Version order inference (what "overwrote" means; Elle's rw-register assumptions):
 * - every value is written at most once per key, so a read names the write it saw; the
 *   version of a key a transaction installs is its last write of that key;
 * - the initial version (nil) precedes every written version;
 * - a transaction that read version v of a key and then wrote v' to it puts v before v';
 * - with `realtime`: a writer that finished before another began wrote the earlier version
 *   (sound for strict serializability, not for plain serializability, so such edges are marked);
 * - with `timestamps`: versions are ordered by their writers' commit timestamps (marked too).
 * The order is the transitive closure of these facts; it may be partial, and then fewer
 * `ww`/`rw` edges are known (Elle's limitation too: some anomalies stay invisible).
 */
import { createRequire } from 'node:module';
import type * as Graphology from 'graphology';
import type { DirectedGraph } from 'graphology';
import { HistoryFormatError } from '../history/errors.ts';
import type { Transaction, TransactionHistory, TxnKey, TxnValue } from './transaction.ts';

let graphologyModule: typeof Graphology | undefined;
/** graphology (its CommonJS build) loads with the first dependency graph: a check without transaction properties never loads it. */
function graphology(): typeof Graphology {
  return (graphologyModule ??= createRequire(import.meta.url)('graphology') as typeof Graphology);
}

/** The kinds of edges. */
export type DependencyType = 'ww' | 'wr' | 'rw' | 'rt' | 'ts';

/** What an edge rests on: only what the database returned, or also real time / timestamps. */
export type Assumption = 'none' | 'realtime' | 'timestamp';

/** Why an edge exists. */
export interface DependencyReason {
  readonly type: DependencyType;
  readonly assumption: Assumption;
  /** The key involved (ww, wr, rw). */
  readonly key?: TxnKey;
  /** Human-readable, e.g. `T1 wrote x = 1, T2 read it`. */
  readonly text: string;
}

/** Node attributes: the transaction. Edge attributes: every reason for the edge. */
export type DependencyGraph = DirectedGraph<{ txn: Transaction }, { reasons: DependencyReason[] }>;

/** An anomaly seen directly in the reads, not as a cycle. */
export interface ReadAnomaly {
  readonly type: 'G1a' | 'G1b' | 'internal' | 'garbage-read';
  readonly transactions: readonly number[];
  readonly description: string;
}

/** Which orders beyond the database's answers the graph should include. */
export interface DependencyGraphOptions {
  /** Add `rt` edges and real-time version order. */
  readonly realtime?: boolean;
  /** Add `ts` edges and timestamp version order (transactions without a timestamp get none). */
  readonly timestamps?: boolean;
}

/** The graph and the anomalies found while reading the reads. */
export interface DependencyAnalysis {
  readonly graph: DependencyGraph;
  readonly readAnomalies: readonly ReadAnomaly[];
}

interface Write {
  readonly txn: Transaction;
  /** the transaction's last write of the key: the version it installs */
  readonly final: boolean;
}

const show = (v: TxnValue | null): string => (v === null ? 'nil' : JSON.stringify(v));
const T = (t: Transaction): string => `T${t.id}`;
const INIT = -1;

/** Builds the dependency graph of `history`. Throws {@link HistoryFormatError} if a value is written twice. */
export function buildDependencyGraph(history: TransactionHistory, options: DependencyGraphOptions = {}): DependencyAnalysis {
  const file = history.file ?? '<transactions>';
  const txns = history.transactions;
  const readAnomalies: ReadAnomaly[] = [];

  // Every write, by key and value.
  const writes = new Map<TxnKey, Map<TxnValue, Write>>();
  for (const txn of txns) {
    const last = new Map<TxnKey, number>();
    txn.ops.forEach((op, k) => op.f === 'w' && last.set(op.key, k));
    txn.ops.forEach((op, k) => {
      if (op.f !== 'w') return;
      let byValue = writes.get(op.key);
      if (!byValue) writes.set(op.key, (byValue = new Map()));
      const other = byValue.get(op.value);
      if (other) {
        throw new HistoryFormatError(
          file,
          txn.line ?? 0,
          `${T(txn)} writes ${String(op.key)} = ${show(op.value)}, already written by ${T(other.txn)}; version inference needs values unique per key`,
        );
      }
      byValue.set(op.value, { txn, final: last.get(op.key) === k });
    });
  }

  // External reads of committed transactions: (reader, key, writer id or INIT).
  const reads: { reader: Transaction; key: TxnKey; writer: number; value: TxnValue | null }[] = [];
  const inGraph = new Set<number>(txns.filter((t) => t.status === 'committed').map((t) => t.id));
  for (const txn of txns) {
    if (txn.status !== 'committed') continue;
    const own = new Map<TxnKey, TxnValue>();
    for (const op of txn.ops) {
      if (op.f === 'w') {
        own.set(op.key, op.value);
        continue;
      }
      if (own.has(op.key)) {
        if (own.get(op.key) !== op.value) {
          readAnomalies.push({
            type: 'internal',
            transactions: [txn.id],
            description: `${T(txn)} wrote ${String(op.key)} = ${show(own.get(op.key)!)} and then read ${show(op.value)}`,
          });
        }
        continue;
      }
      if (op.value === null) {
        reads.push({ reader: txn, key: op.key, writer: INIT, value: null });
        continue;
      }
      const w = writes.get(op.key)?.get(op.value);
      if (!w) {
        readAnomalies.push({ type: 'garbage-read', transactions: [txn.id], description: `${T(txn)} read ${String(op.key)} = ${show(op.value)}, which no transaction wrote` });
      } else if (w.txn === txn) {
        readAnomalies.push({ type: 'internal', transactions: [txn.id], description: `${T(txn)} read ${String(op.key)} = ${show(op.value)} before writing it` });
      } else if (w.txn.status === 'aborted') {
        readAnomalies.push({
          type: 'G1a',
          transactions: [w.txn.id, txn.id],
          description: `${T(txn)} read ${String(op.key)} = ${show(op.value)}, written by ${T(w.txn)}, which aborted`,
        });
      } else if (!w.final) {
        readAnomalies.push({
          type: 'G1b',
          transactions: [w.txn.id, txn.id],
          description: `${T(txn)} read ${String(op.key)} = ${show(op.value)}, an intermediate write of ${T(w.txn)} (not its last write of ${String(op.key)})`,
        });
      } else {
        // a transaction of unknown outcome whose write was read did commit
        inGraph.add(w.txn.id);
        reads.push({ reader: txn, key: op.key, writer: w.txn.id, value: op.value });
      }
    }
  }

  const graph: DependencyGraph = new (graphology()).DirectedGraph();
  for (const txn of txns) if (inGraph.has(txn.id)) graph.addNode(String(txn.id), { txn });
  const addEdge = (from: number, to: number, reason: DependencyReason): void => {
    if (from === to) return;
    const s = String(from);
    const t = String(to);
    if (graph.hasEdge(s, t)) graph.getEdgeAttribute(s, t, 'reasons').push(reason);
    else graph.addEdge(s, t, { reasons: [reason] });
  };

  // Installed versions: key → writer id → value.
  const versions = new Map<TxnKey, Map<number, TxnValue>>();
  for (const [key, byValue] of writes) {
    for (const [value, w] of byValue) {
      if (!w.final || !inGraph.has(w.txn.id)) continue;
      let m = versions.get(key);
      if (!m) versions.set(key, (m = new Map()));
      m.set(w.txn.id, value);
    }
  }

  // Known version order facts, per key: earlier writer → later writer → assumption.
  const order = new Map<TxnKey, Map<number, Map<number, Assumption>>>();
  const fact = (key: TxnKey, a: number, b: number, assumption: Assumption): void => {
    if (a === b) return;
    let byKey = order.get(key);
    if (!byKey) order.set(key, (byKey = new Map()));
    let after = byKey.get(a);
    if (!after) byKey.set(a, (after = new Map()));
    const known = after.get(b);
    if (known === undefined || rank(assumption) < rank(known)) after.set(b, assumption);
  };
  for (const [key, byWriter] of versions) for (const w of byWriter.keys()) fact(key, INIT, w, 'none');
  for (const r of reads) {
    // read then overwrote: the version read precedes the one installed
    if (versions.get(r.key)?.has(r.reader.id)) fact(r.key, r.writer, r.reader.id, 'none');
  }
  if (options.realtime) {
    for (const [key, byWriter] of versions) {
      const writers = [...byWriter.keys()].map((id) => txns[id]!);
      for (const a of writers) for (const b of writers) if (a.return < b.call) fact(key, a.id, b.id, 'realtime');
    }
  }
  if (options.timestamps) {
    for (const [key, byWriter] of versions) {
      const stamped = [...byWriter.keys()].map((id) => txns[id]!).filter((t) => t.commitTs !== undefined);
      stamped.sort((a, b) => a.commitTs! - b.commitTs!);
      for (let i = 0; i + 1 < stamped.length; i++) {
        if (stamped[i]!.commitTs! < stamped[i + 1]!.commitTs!) fact(key, stamped[i]!.id, stamped[i + 1]!.id, 'timestamp');
      }
    }
  }
  const closed = new Map<TxnKey, Map<number, Map<number, Assumption>>>();
  for (const [key, facts] of order) closed.set(key, transitiveClosure(facts));

  const because = (a: Assumption): string => (a === 'realtime' ? ' (version order from real time)' : a === 'timestamp' ? ' (version order from commit timestamps)' : '');
  for (const [key, after] of closed) {
    const byWriter = versions.get(key)!;
    for (const [a, later] of after) {
      if (a === INIT) continue;
      for (const [b, assumption] of later) {
        addEdge(a, b, {
          type: 'ww',
          assumption,
          key,
          text: `T${a} wrote ${String(key)} = ${show(byWriter.get(a)!)}, T${b} overwrote it with ${show(byWriter.get(b)!)}${because(assumption)}`,
        });
      }
    }
  }
  for (const r of reads) {
    if (r.writer !== INIT) {
      addEdge(r.writer, r.reader.id, { type: 'wr', assumption: 'none', key: r.key, text: `T${r.writer} wrote ${String(r.key)} = ${show(r.value)}, ${T(r.reader)} read it` });
    }
    const later = closed.get(r.key)?.get(r.writer);
    if (!later) continue;
    const byWriter = versions.get(r.key)!;
    for (const [b, assumption] of later) {
      addEdge(r.reader.id, b, {
        type: 'rw',
        assumption,
        key: r.key,
        text: `${T(r.reader)} read ${String(r.key)} = ${show(r.value)}, T${b} overwrote it with ${show(byWriter.get(b)!)}${because(assumption)}`,
      });
    }
  }

  const members = txns.filter((t) => inGraph.has(t.id));
  if (options.realtime) {
    for (const [a, b] of realtimeEdges(members)) {
      addEdge(a.id, b.id, { type: 'rt', assumption: 'realtime', text: `${T(a)} finished (at ${a.return}) before ${T(b)} began (at ${b.call})` });
    }
  }
  if (options.timestamps) {
    const stamped = members.filter((t) => t.commitTs !== undefined).sort((a, b) => a.commitTs! - b.commitTs!);
    for (let i = 0; i + 1 < stamped.length; i++) {
      const a = stamped[i]!;
      const b = stamped[i + 1]!;
      if (a.commitTs! < b.commitTs!) addEdge(a.id, b.id, { type: 'ts', assumption: 'timestamp', text: `${T(a)} committed at timestamp ${a.commitTs} < ${T(b)}'s ${b.commitTs}` });
    }
  }
  return { graph, readAnomalies };
}

const rank = (a: Assumption): number => (a === 'none' ? 0 : a === 'realtime' ? 1 : 2);

/**
 * Transitive closure of order facts; each derived pair keeps the least assumption any chain
 * proving it needs (a chain needs the strongest assumption along it).
 */
function transitiveClosure(facts: Map<number, Map<number, Assumption>>): Map<number, Map<number, Assumption>> {
  const closure = new Map<number, Map<number, Assumption>>();
  for (const start of facts.keys()) {
    // one search per assumption level, weakest first: a pair keeps the first level that reaches it
    const best = new Map<number, Assumption>();
    for (const level of ['none', 'realtime', 'timestamp'] as const) {
      const queue: number[] = [start];
      const seen = new Set<number>([start]);
      while (queue.length > 0) {
        const a = queue.shift()!;
        for (const [b, assumption] of facts.get(a) ?? []) {
          if (rank(assumption) > rank(level) || seen.has(b)) continue;
          seen.add(b);
          if (!best.has(b)) best.set(b, level);
          queue.push(b);
        }
      }
    }
    best.delete(start);
    if (best.size > 0) closure.set(start, best);
  }
  return closure;
}

/**
 * Real-time precedence "a finished before b began", transitively reduced: a → b is left out
 * when some c began after a finished and finished before b began (a → c → b says it already).
 */
function realtimeEdges(txns: readonly Transaction[]): [Transaction, Transaction][] {
  const byReturn = [...txns].filter((t) => Number.isFinite(t.return)).sort((a, b) => a.return - b.return);
  const edges: [Transaction, Transaction][] = [];
  for (const b of txns) {
    // latest call among transactions that finished before b began
    let latestCall = Number.NEGATIVE_INFINITY;
    for (const c of byReturn) {
      if (!(c.return < b.call)) break;
      latestCall = Math.max(latestCall, c.call);
    }
    for (const a of byReturn) {
      if (!(a.return < b.call)) break;
      if (a.return >= latestCall) edges.push([a, b]);
    }
  }
  return edges;
}
