/**
 * The dependency graph as a graphology `DirectedGraph`, for callers who want to walk or draw
 * it (the checker itself works on the typed-array graph of `txn-graph.ts`): one node per
 * transaction that took effect, one edge per ordered pair, with every reason for it.
 */
import { createRequire } from 'node:module';
import type * as Graphology from 'graphology';
import type { DirectedGraph } from 'graphology';
import type { InferOptions } from './analysis.ts';
import { inferListAppend } from './infer-list-append.ts';
import { inferRwRegister } from './infer-rw-register.ts';
import type { DirectAnomalyType } from './models.ts';
import { levelOf, type EdgeKindName } from './txn-graph.ts';
import type { Transaction, TransactionHistory } from './transaction.ts';
import { resolveWorkload } from './workload.ts';

let graphologyModule: typeof Graphology | undefined;
/** graphology (its CommonJS build) loads with the first dependency graph: a check without transaction properties never loads it. */
function graphology(): typeof Graphology {
  return (graphologyModule ??= createRequire(import.meta.url)('graphology') as typeof Graphology);
}

/** The kinds of edges. */
export type DependencyType = EdgeKindName;

/** What an edge rests on beyond the database's answers. */
export type Assumption = 'none' | 'process' | 'realtime' | 'timestamp';

/** Why an edge exists. */
export interface DependencyReason {
  readonly type: DependencyType;
  readonly assumption: Assumption;
  /** The key involved (ww, wr, rw). */
  readonly key?: string | number;
  /** Human-readable, e.g. `T1 wrote x = 1, T2 read it`. */
  readonly text: string;
}

/** Node attributes: the transaction. Edge attributes: every reason for the edge. */
export type DependencyGraph = DirectedGraph<{ txn: Transaction }, { reasons: DependencyReason[] }>;

/** An anomaly seen directly, not as a cycle. */
export interface ReadAnomaly {
  readonly type: DirectAnomalyType;
  readonly transactions: readonly number[];
  readonly description: string;
}

/** Which order edges to include (all default false), and the inference assumptions. */
export interface DependencyGraphOptions extends Partial<Omit<InferOptions, 'process' | 'realtime' | 'timestamps'>> {
  readonly process?: boolean;
  readonly realtime?: boolean;
  readonly timestamps?: boolean;
}

/** The graph and the anomalies found while reading the reads. */
export interface DependencyAnalysis {
  readonly graph: DependencyGraph;
  readonly readAnomalies: readonly ReadAnomaly[];
}

const ASSUMPTIONS: readonly Assumption[] = ['none', 'process', 'realtime', 'timestamp'];

/** Builds the dependency graph of `history` as a graphology graph. */
export function buildDependencyGraph(history: TransactionHistory, options: DependencyGraphOptions = {}): DependencyAnalysis {
  const workload = resolveWorkload(history);
  const infer: InferOptions = {
    initialState: options.initialState ?? (workload === 'list-append' ? 'empty' : 'unknown'),
    wfrKeys: options.wfrKeys ?? true,
    sequentialKeys: options.sequentialKeys ?? false,
    linearizableKeys: options.linearizableKeys ?? false,
    process: options.process ?? false,
    realtime: options.realtime ?? false,
    timestamps: options.timestamps ?? false,
  };
  const a = workload === 'list-append' ? inferListAppend(history, infer) : inferRwRegister(history, infer);
  const graph: DependencyGraph = new (graphology()).DirectedGraph();
  for (const t of a.txns) if (a.effective[t.id]) graph.addNode(String(t.id), { txn: t });
  for (let e = 0; e < a.graph.edgeCount; e++) {
    const s = String(a.graph.edgeFrom(e));
    const t = String(a.graph.edgeTo(e));
    const ex = a.explain(e);
    const reason: DependencyReason = { type: ex.type, assumption: ASSUMPTIONS[levelOf(a.graph.edgeInfo(e))]!, text: ex.text, ...(ex.key === undefined ? {} : { key: ex.key }) };
    if (graph.hasEdge(s, t)) graph.getEdgeAttribute(s, t, 'reasons').push(reason);
    else graph.addEdge(s, t, { reasons: [reason] });
  }
  return { graph, readAnomalies: a.direct.map((d) => ({ type: d.type, transactions: d.transactions, description: d.description })) };
}
