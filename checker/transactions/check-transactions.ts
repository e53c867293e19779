/**
 * `checkTransactions`: Elle-style checking of a transaction history (list-append or
 * rw-register): infer the dependency graph, find the anomalies, and say which consistency
 * models the history rules out.
 *
 * What is searched: by default every anomaly (so every model's verdict is exact); with
 * `anomalies`, only those (and what implies them) plus what the models asked for forbid.
 * What decides `valid`: none of the anomalies the asked models forbid (and none of the asked
 * anomalies) was found. Each anomaly found names the weakest models it rules out.
 */
import type { Analysis, InferOptions } from './analysis.ts';
import { DEFAULT_SEARCH_BUDGET, findCycles } from './cycles.ts';
import { cyclePath, cycleSteps, explainSteps, type CycleStep } from './explain.ts';
import { inferListAppend } from './infer-list-append.ts';
import { inferRwRegister } from './infer-rw-register.ts';
import {
  ANOMALIES,
  CONSISTENCY_MODELS,
  cycleShape,
  forbiddenAnomalies,
  isCycleAnomaly,
  parseAnomaly,
  parseModel,
  ruledOutModels,
  weakestModels,
  type AnomalyType,
  type ConsistencyModel,
  type CycleAnomalyType,
} from './models.ts';
import type { TransactionHistory, Workload } from './transaction.ts';
import { resolveWorkload } from './workload.ts';

export type { AnomalyType, ConsistencyModel, CycleAnomalyType } from './models.ts';
export { CONSISTENCY_MODELS, forbiddenAnomalies } from './models.ts';

/** One anomaly found. */
export interface TransactionAnomaly {
  readonly type: AnomalyType;
  /** The transactions involved (for a cycle, in cycle order). */
  readonly transactions: readonly number[];
  /** One line: the anomaly and the cycle (`G2-item: T0 -rw-> T1 -rw-> T0`) or what was read. */
  readonly description: string;
  /** The weakest models this anomaly rules out (Elle's `:not`). */
  readonly not: readonly ConsistencyModel[];
  /** For cycle anomalies: the edges of a shortest cycle, in order, each with its reason. */
  readonly cycle?: readonly CycleStep[];
  /** For cycle anomalies: the step-by-step explanation (`Let: ... Then: ...`). */
  readonly explanation?: readonly string[];
  /** For cycle anomalies: how many strongly connected components showed one. */
  readonly components?: number;
  /** For cycle anomalies: false when the search budget ran out (the cycle is short, maybe not shortest). */
  readonly shortest?: boolean;
}

/** The result of {@link checkTransactions}. */
export interface TransactionCheckResult {
  /** The first model asked about (absent when only anomalies were asked about). */
  readonly model?: ConsistencyModel;
  /** Every model asked about. */
  readonly asked: readonly ConsistencyModel[];
  /** The anomaly names asked about (as given), if any. */
  readonly askedAnomalies: readonly string[];
  /** No anomaly the asked models forbid, nor any asked anomaly, was found. */
  readonly valid: boolean;
  /** False when some search that could decide `valid` was cut short (then `valid` is not certain). */
  readonly complete: boolean;
  /** Per model: not ruled out by the anomalies found (exact for every model when everything was searched). */
  readonly models: Readonly<Record<ConsistencyModel, boolean>>;
  /** The weakest models ruled out, and the others ruled out. */
  readonly not: readonly ConsistencyModel[];
  readonly alsoNot: readonly ConsistencyModel[];
  readonly anomalies: readonly TransactionAnomaly[];
  /** How many of each anomaly (direct anomalies may have more than the examples in `anomalies`). */
  readonly counts: Readonly<Partial<Record<AnomalyType, number>>>;
  /** The anomalies searched for. */
  readonly searched: readonly AnomalyType[];
  /** Cycle classes whose search was cut short without a result. */
  readonly incomplete: readonly AnomalyType[];
  readonly workload: Workload;
  /** Transactions in the history, and how many took effect (committed, or unknown but observed). */
  readonly transactions: number;
  readonly effective: number;
  /** Whether any transaction carried a commit timestamp. */
  readonly timestamps: boolean;
  /** Dependency graph size: edges, non-trivial strongly connected components, the largest one. */
  readonly graph: { readonly edges: number; readonly components: number; readonly largestComponent: number };
  readonly seconds: number;
}

/** Options of {@link checkTransactions}. */
export interface TransactionCheckOptions {
  /** A model to decide (default `serializable` when neither `models` nor `anomalies` is given). */
  readonly model?: ConsistencyModel;
  /** Models to decide (names or aliases such as `PL-2`). */
  readonly models?: readonly string[];
  /** Anomalies to look for (names, `-item` spellings, `G1`, `G2`); limits the search to them and what the models forbid. */
  readonly anomalies?: readonly string[];
  /** The workload; detected from the operations when absent. */
  readonly workload?: Workload;
  /**
   * What keys hold before the history: `'empty'` (a read of a value nobody wrote is a garbage
   * read) or `'unknown'` (it may be an initial value: no anomaly). Default: `'unknown'` for
   * rw-register (Elle's convention), `'empty'` for list-append (lists start empty, as Elle assumes).
   */
  readonly initialState?: 'empty' | 'unknown';
  /** rw-register: a transaction's write follows the version it read (default true; Elle's `wfr-keys?`). */
  readonly wfrKeys?: boolean;
  /** rw-register: assume each key sequentially consistent: process order gives version order outright (Elle's `sequential-keys?`). */
  readonly sequentialKeys?: boolean;
  /** rw-register: assume each key linearizable: real-time order gives version order outright (Elle's `linearizable-keys?`). */
  readonly linearizableKeys?: boolean;
  /** Edge visits per cycle class and component before the search settles (default 20 M). */
  readonly searchBudget?: number;
}

/**
 * Checks a transaction history. Throws {@link HistoryCheckerError} on an unknown model or
 * anomaly name, and HistoryFormatError when the history is not one workload or writes a value
 * twice to a key.
 */
export function checkTransactions(history: TransactionHistory, options: TransactionCheckOptions = {}): TransactionCheckResult {
  const started = performance.now();
  const askedAnomalies = options.anomalies ?? [];
  const modelNames = [...(options.model !== undefined ? [options.model] : []), ...(options.models ?? [])];
  const asked = [...new Set((modelNames.length === 0 && askedAnomalies.length === 0 ? ['serializable'] : modelNames).map(parseModel))];
  const prohibited = new Set<AnomalyType>([...asked.flatMap((m) => [...forbiddenAnomalies(m)]), ...askedAnomalies.flatMap(parseAnomaly)]);
  const workload = resolveWorkload(history, options.workload);
  const timestamps = history.transactions.some((t) => t.commitTs !== undefined);
  const searched = (askedAnomalies.length > 0 ? ANOMALIES.filter((a) => prohibited.has(a)) : [...ANOMALIES]).filter(
    (a) => timestamps || !isCycleAnomaly(a) || cycleShape(a).level < 3,
  );
  const levels = searched.filter(isCycleAnomaly).map((a) => cycleShape(a).level);
  const infer: InferOptions = {
    initialState: options.initialState ?? (workload === 'list-append' ? 'empty' : 'unknown'),
    wfrKeys: options.wfrKeys ?? true,
    sequentialKeys: options.sequentialKeys ?? false,
    linearizableKeys: options.linearizableKeys ?? false,
    process: levels.includes(1),
    realtime: levels.some((l) => l >= 2),
    timestamps: timestamps && levels.includes(3),
  };
  const analysis: Analysis = workload === 'list-append' ? inferListAppend(history, infer) : inferRwRegister(history, infer);
  const wantedCycles = new Set(searched.filter(isCycleAnomaly));
  const search = findCycles(analysis.graph, wantedCycles, options.searchBudget ?? DEFAULT_SEARCH_BUDGET);

  const searchedSet = new Set(searched);
  const anomalies: TransactionAnomaly[] = [];
  const counts: Partial<Record<AnomalyType, number>> = {};
  const notOf = (type: AnomalyType): ConsistencyModel[] => weakestModels(ruledOutModels([type]));
  for (const d of analysis.direct) {
    if (!searchedSet.has(d.type)) continue;
    anomalies.push({ type: d.type, transactions: d.transactions, description: `${d.type}: ${d.description}`, not: notOf(d.type) });
  }
  for (const [type, n] of analysis.directCounts) if (searchedSet.has(type)) counts[type] = n;
  for (const type of ANOMALIES) {
    if (!isCycleAnomaly(type)) continue;
    const hit = search.found.get(type as CycleAnomalyType);
    if (!hit) continue;
    const steps = cycleSteps(analysis, hit.cycle);
    counts[type] = hit.components;
    anomalies.push({
      type,
      transactions: steps.map((s) => s.from),
      description: `${type}: ${cyclePath(steps)}`,
      not: notOf(type),
      cycle: steps,
      explanation: explainSteps(analysis.txns, steps),
      components: hit.components,
      shortest: hit.cycle.shortest,
    });
  }
  const foundTypes = new Set(anomalies.map((a) => a.type));
  const out = ruledOutModels(foundTypes);
  const not = weakestModels(out);
  const incomplete = search.incomplete.filter((t) => !foundTypes.has(t));
  const valid = ![...foundTypes].some((t) => prohibited.has(t));
  let effective = 0;
  for (const e of analysis.effective) effective += e;
  return {
    ...(asked.length > 0 ? { model: asked[0] } : {}),
    asked,
    askedAnomalies,
    valid,
    complete: !incomplete.some((t) => prohibited.has(t)),
    models: Object.fromEntries(CONSISTENCY_MODELS.map((m) => [m, !out.has(m)])) as Record<ConsistencyModel, boolean>,
    not,
    alsoNot: CONSISTENCY_MODELS.filter((m) => out.has(m) && !not.includes(m)),
    anomalies,
    counts,
    searched,
    incomplete,
    workload,
    transactions: history.transactions.length,
    effective,
    timestamps,
    graph: { edges: analysis.graph.edgeCount, components: search.components, largestComponent: search.largestComponent },
    seconds: (performance.now() - started) / 1000,
  };
}

/** Renders an anomaly: its line, the weakest models it rules out, and for a cycle its explanation. */
export function formatAnomaly(a: TransactionAnomaly): string {
  const rules = a.not.length > 0 ? ` [rules out ${a.not.join(', ')}]` : '';
  if (!a.cycle) return `${a.description}${rules}`;
  const more = a.components && a.components > 1 ? `, seen in ${a.components} components` : '';
  const head = `${a.type} (cycle of ${a.cycle.length}${a.shortest === false ? ', short but maybe not shortest' : ''}${more}): ${cyclePath(a.cycle)}${rules}`;
  return [head, ...(a.explanation ?? []).map((l) => `  ${l}`)].join('\n');
}
