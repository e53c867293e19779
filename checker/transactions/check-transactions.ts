/**
 * `checkTransactions`: Elle-style anomaly detection on a transaction history, and verdicts for
 * serializability, snapshot isolation, strict serializability and external consistency.
 *
 * Anomaly classes (Adya; Elle's names):
 * - G1a aborted read, G1b intermediate read, `internal` (a transaction does not see its own
 *   write), `garbage-read` (a value nobody wrote): seen directly in the reads;
 * - G0 write cycle (ww only), G1c circular information flow (ww and wr, at least one wr),
 *   G-single read skew (exactly one rw), G2 anti-dependency cycle (two or more rw);
 * - the same cycles needing real-time edges (`G0-realtime` ...), which only strict
 *   serializability forbids, and needing commit-timestamp edges (`G0-timestamp` ...), which
 *   only external consistency forbids.
 * Each cycle class is reported once, with a shortest cycle.
 */
import { HistoryCheckerError } from '../history/errors.ts';
import { buildDependencyGraph, type DependencyGraph, type ReadAnomaly } from './dependency-graph.ts';
import { shortestCycle, type CycleClass, type CycleStep } from './cycles.ts';
import type { TransactionHistory } from './transaction.ts';

/** The consistency models checkTransactions decides. */
export type ConsistencyModel = 'serializable' | 'snapshot-isolation' | 'strict-serializable' | 'external-consistency';

/** The consistency models, weakest first. */
export const CONSISTENCY_MODELS: readonly ConsistencyModel[] = ['snapshot-isolation', 'serializable', 'strict-serializable', 'external-consistency'];

/** The names of the cycle anomalies. */
export type CycleAnomalyType =
  | 'G0'
  | 'G1c'
  | 'G-single'
  | 'G2'
  | 'G0-realtime'
  | 'G1c-realtime'
  | 'G-single-realtime'
  | 'G2-realtime'
  | 'G0-timestamp'
  | 'G1c-timestamp'
  | 'G-single-timestamp'
  | 'G2-timestamp';

/** Every anomaly name. */
export type AnomalyType = ReadAnomaly['type'] | CycleAnomalyType;

/** One anomaly: the transactions involved, and for a cycle class a shortest cycle. */
export interface TransactionAnomaly {
  readonly type: AnomalyType;
  readonly transactions: readonly number[];
  readonly description: string;
  /** For cycle classes: the edges of a shortest cycle, in order. */
  readonly cycle?: readonly CycleStep[];
}

/** The result of {@link checkTransactions}. */
export interface TransactionCheckResult {
  /** The model asked about. */
  readonly model: ConsistencyModel;
  /** Whether the history satisfies it. */
  readonly valid: boolean;
  /** The verdict for every model. */
  readonly models: Readonly<Record<ConsistencyModel, boolean>>;
  readonly anomalies: readonly TransactionAnomaly[];
  /** Transactions in the history, and how many took effect (nodes of the graph). */
  readonly transactions: number;
  readonly effective: number;
  /** Whether any transaction carried a commit timestamp. */
  readonly timestamps: boolean;
  readonly seconds: number;
}

/** Options of {@link checkTransactions}. */
export interface TransactionCheckOptions {
  /** The model to decide; default `serializable`. All verdicts are computed anyway. */
  readonly model?: ConsistencyModel;
}

type Counts = Parameters<CycleClass['accept']>[0];
const base: [string, CycleClass['types'], (c: Counts) => boolean][] = [
  ['G0', ['ww'], () => true],
  ['G1c', ['ww', 'wr'], (c) => c.wr],
  ['G-single', ['ww', 'wr', 'rw'], (c) => c.rw === 1],
  ['G2', ['ww', 'wr', 'rw'], (c) => c.rw >= 2],
];
const CLASSES: { type: CycleAnomalyType; cls: CycleClass; level: 'base' | 'realtime' | 'timestamp' }[] = [
  ...base.map(([name, types, accept]) => ({ type: name as CycleAnomalyType, cls: { types, assumption: 'none' as const, accept }, level: 'base' as const })),
  ...base.map(([name, types, accept]) => ({
    type: `${name}-realtime` as CycleAnomalyType,
    cls: { types: [...types, 'rt' as const], assumption: 'realtime' as const, accept: (c: Counts) => c.realtime && accept(c) },
    level: 'realtime' as const,
  })),
  ...base.map(([name, types, accept]) => ({
    type: `${name}-timestamp` as CycleAnomalyType,
    cls: { types: [...types, 'rt' as const, 'ts' as const], assumption: 'timestamp' as const, accept: (c: Counts) => c.timestamp && accept(c) },
    level: 'timestamp' as const,
  })),
];

const FORBIDDEN: Record<ConsistencyModel, ReadonlySet<AnomalyType>> = (() => {
  const read: AnomalyType[] = ['G1a', 'G1b', 'internal', 'garbage-read'];
  const si: AnomalyType[] = [...read, 'G0', 'G1c', 'G-single'];
  const ser: AnomalyType[] = [...si, 'G2'];
  const strict: AnomalyType[] = [...ser, 'G0-realtime', 'G1c-realtime', 'G-single-realtime', 'G2-realtime'];
  const ext: AnomalyType[] = [...strict, 'G0-timestamp', 'G1c-timestamp', 'G-single-timestamp', 'G2-timestamp'];
  return { 'snapshot-isolation': new Set(si), serializable: new Set(ser), 'strict-serializable': new Set(strict), 'external-consistency': new Set(ext) };
})();

/** The anomaly classes a model forbids. */
export function forbiddenAnomalies(model: ConsistencyModel): ReadonlySet<AnomalyType> {
  return FORBIDDEN[model];
}

const describeCycle = (cycle: readonly CycleStep[]): string =>
  `T${cycle[0]!.from} ${cycle.map((s) => `-${s.type}-> T${s.to}`).join(' ')}`;

/**
 * Checks a transaction history. Throws {@link HistoryCheckerError} on an unknown model, and
 * HistoryFormatError when values are not unique per key (version inference needs it).
 */
export function checkTransactions(history: TransactionHistory, options: TransactionCheckOptions = {}): TransactionCheckResult {
  const model = options.model ?? 'serializable';
  if (!CONSISTENCY_MODELS.includes(model)) {
    throw new HistoryCheckerError('checkTransactions/unknown-model', `unknown model ${JSON.stringify(model)}; known: ${CONSISTENCY_MODELS.join(', ')}`);
  }
  const start = performance.now();
  const timestamps = history.transactions.some((t) => t.commitTs !== undefined);
  const plain = buildDependencyGraph(history);
  const graphs: Record<'base' | 'realtime' | 'timestamp', DependencyGraph | undefined> = {
    base: plain.graph,
    realtime: buildDependencyGraph(history, { realtime: true }).graph,
    timestamp: timestamps ? buildDependencyGraph(history, { realtime: true, timestamps: true }).graph : undefined,
  };
  const anomalies: TransactionAnomaly[] = plain.readAnomalies.map((a) => ({ ...a }));
  for (const { type, cls, level } of CLASSES) {
    const graph = graphs[level];
    if (!graph) continue;
    const cycle = shortestCycle(graph, cls);
    if (!cycle) continue;
    anomalies.push({
      type,
      transactions: cycle.map((s) => s.from),
      description: `${type}: ${describeCycle(cycle)}`,
      cycle,
    });
  }
  const models = Object.fromEntries(
    CONSISTENCY_MODELS.map((m) => [m, !anomalies.some((a) => FORBIDDEN[m].has(a.type))]),
  ) as Record<ConsistencyModel, boolean>;
  return {
    model,
    valid: models[model],
    models,
    anomalies,
    transactions: history.transactions.length,
    effective: plain.graph.order,
    timestamps,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Renders an anomaly with its cycle, one edge per line. */
export function formatAnomaly(a: TransactionAnomaly): string {
  if (!a.cycle) return `${a.type}: ${a.description}`;
  return [`${a.type} (cycle of ${a.cycle.length}): ${describeCycle(a.cycle)}`, ...a.cycle.map((s) => `  T${s.from} -${s.type}-> T${s.to}: ${s.reason}`)].join('\n');
}
