/**
 * What the workload-specific inference hands to the cycle search and the report: the
 * dependency graph, which transactions took effect, the anomalies seen directly (without a
 * cycle), and an explainer that puts any edge into words.
 */
import type { DirectAnomalyType } from './models.ts';
import { kindOf, PROCESS, REALTIME, TIMESTAMP, type EdgeKindName, type TxnGraph } from './txn-graph.ts';
import type { Transaction, TxnKey, Workload } from './transaction.ts';

/** Which assumptions and order edges the inference uses. */
export interface InferOptions {
  /**
   * What a key holds before the history begins. `'empty'`: nil (registers) or the empty list,
   * so a read of a value no transaction wrote is a garbage read. `'unknown'`: a value may be
   * there already (Elle's rw-register convention): such a read is of that initial value, and
   * shows nothing.
   */
  readonly initialState: 'empty' | 'unknown';
  /** rw-register: a transaction's write of a key comes after the version it read of it. */
  readonly wfrKeys: boolean;
  /** rw-register: take version order from process order as a plain fact (each key sequentially consistent). */
  readonly sequentialKeys: boolean;
  /** rw-register: take version order from real-time order as a plain fact (each key linearizable). */
  readonly linearizableKeys: boolean;
  /** Build process-order edges (and, for rw-register, process-derived version order). */
  readonly process: boolean;
  /** Build real-time edges (and real-time-derived version order). */
  readonly realtime: boolean;
  /** Build commit-timestamp edges (and timestamp-derived version order). */
  readonly timestamps: boolean;
}

/** An anomaly seen directly. */
export interface DirectFinding {
  readonly type: DirectAnomalyType;
  /** The transactions involved (ids). */
  readonly transactions: readonly number[];
  readonly key?: TxnKey;
  /** One sentence, e.g. `T4 read x = [1 2], and 2 was appended by T2, which aborted`. */
  readonly description: string;
}

/** One edge in words. */
export interface StepExplanation {
  readonly type: EdgeKindName;
  readonly key?: TxnKey;
  /** Why `from` precedes `to`, as a clause: `T2 read x = 1, written by T1`. */
  readonly text: string;
}

/** The result of a workload's inference. */
export interface Analysis {
  readonly workload: Workload;
  readonly txns: readonly Transaction[];
  /** 1 for transactions that took effect (committed, or unknown but observed). */
  readonly effective: Uint8Array;
  readonly graph: TxnGraph;
  readonly direct: readonly DirectFinding[];
  /** How many of each direct anomaly were seen (`direct` keeps at most {@link MAX_EXAMPLES} each). */
  readonly directCounts: ReadonlyMap<DirectAnomalyType, number>;
  /** Explains an edge of `graph`. */
  explain(edge: number): StepExplanation;
}

/** Most examples of one direct anomaly kept in a result. */
export const MAX_EXAMPLES = 100;

/** Collects direct findings, keeping a bounded number of examples per type. */
export class Findings {
  readonly list: DirectFinding[] = [];
  readonly counts = new Map<DirectAnomalyType, number>();
  add(type: DirectAnomalyType, transactions: readonly number[], description: () => string, key?: TxnKey): void {
    const n = (this.counts.get(type) ?? 0) + 1;
    this.counts.set(type, n);
    if (n <= MAX_EXAMPLES) this.list.push(key === undefined ? { type, transactions, description: description() } : { type, transactions, key, description: description() });
  }
}

export const T = (id: number): string => `T${id}`;

/** Interns keys as small integers (edges carry key ids). */
export class KeyTable {
  private readonly ids = new Map<TxnKey, number>();
  readonly names: TxnKey[] = [];
  id(key: TxnKey): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(key, id);
      this.names.push(key);
    }
    return id;
  }
}

/** Words for order edges, shared by both workloads. */
export function explainOrderEdge(graph: TxnGraph, e: number, txns: readonly Transaction[]): StepExplanation | undefined {
  const kind = kindOf(graph.edgeInfo(e));
  const a = txns[graph.edgeFrom(e)]!;
  const b = txns[graph.edgeTo(e)]!;
  if (kind === PROCESS) return { type: 'process', text: `process ${String(a.process)} ran ${T(a.id)} before ${T(b.id)}` };
  if (kind === REALTIME) return { type: 'realtime', text: `${T(a.id)} finished (at ${a.return}) before ${T(b.id)} began (at ${b.call})` };
  if (kind === TIMESTAMP) return { type: 'timestamp', text: `${T(a.id)} committed at timestamp ${a.commitTs} < ${T(b.id)}'s ${b.commitTs}` };
  return undefined;
}
