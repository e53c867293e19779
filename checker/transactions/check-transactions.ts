/**
 * `checkTransactions`: Elle-style checking of a transaction history (list-append or
 * rw-register): infer the dependency graph, find the anomalies, and say which consistency
 * models the history rules out.
 *
 * What is searched: by default every anomaly (so every model's verdict is exact); with
 * `anomalies` or `exhaustive: false`, only the anomalies asked for (and what implies them)
 * plus what the asked models forbid.
 * What decides `valid`: none of the anomalies the asked models forbid (and none of the asked
 * anomalies) was found. Each anomaly found names the weakest models it rules out.
 */
import type { Analysis, InferOptions } from './analysis.ts';
import { DEFAULT_SEARCH_BUDGET, findCycles, type FoundCycle } from './cycles.ts';
import { cyclePath, cycleSteps, explainSteps, type CycleStep } from './explain.ts';
import { inferListAppend } from './infer-list-append.ts';
import { inferRwRegister } from './infer-rw-register.ts';
import {
  ANOMALIES,
  CONSISTENCY_MODELS,
  CYCLE_ANOMALIES,
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
  /**
   * Search every anomaly (default true), so that `models` is exact for every model; false:
   * only what the asked models and anomalies forbid (faster; the model checker's properties
   * use it, needing only `valid`).
   */
  readonly exhaustive?: boolean;
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
  const timestamps = history.transactions.some((t) => t.commitTs !== undefined);
  const { asked, prohibited, searched, levels } = planFor(options, askedAnomalies, timestamps);
  const workload = resolveWorkload(history, options.workload);
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
  const search = findCycles(analysis.graph, searched.cycles, options.searchBudget ?? DEFAULT_SEARCH_BUDGET);

  const anomalies: TransactionAnomaly[] = [];
  const counts: Partial<Record<AnomalyType, number>> = {};
  for (const d of analysis.direct) {
    if (!searched.all.has(d.type)) continue;
    anomalies.push({ type: d.type, transactions: d.transactions, description: `${d.type}: ${d.description}`, not: weakestRuledOut(d.type) });
  }
  for (const [type, n] of analysis.directCounts) if (searched.all.has(type)) counts[type] = n;
  for (const type of CYCLE_ANOMALIES) {
    const hit = search.found.get(type);
    if (!hit) continue;
    counts[type] = hit.components;
    anomalies.push(cycleAnomaly(analysis, type, hit.cycle, hit.components));
  }
  const foundTypes = new Set(anomalies.map((a) => a.type));
  const out = ruledOutModels(foundTypes);
  const not = weakestModels(out);
  const incomplete = search.incomplete.filter((t) => !foundTypes.has(t));
  let valid = true;
  for (const t of foundTypes) if (prohibited.has(t)) valid = false;
  let effective = 0;
  for (const e of analysis.effective) effective += e;
  const models = {} as Record<ConsistencyModel, boolean>;
  for (const m of CONSISTENCY_MODELS) models[m] = !out.has(m);
  return {
    ...(asked.length > 0 ? { model: asked[0] } : {}),
    asked,
    askedAnomalies,
    valid,
    complete: !incomplete.some((t) => prohibited.has(t)),
    models,
    not,
    alsoNot: CONSISTENCY_MODELS.filter((m) => out.has(m) && !not.includes(m)),
    anomalies,
    counts,
    searched: searched.list,
    incomplete,
    workload,
    transactions: history.transactions.length,
    effective,
    timestamps,
    graph: { edges: analysis.graph.edgeCount, components: search.components, largestComponent: search.largestComponent },
    seconds: (performance.now() - started) / 1000,
  };
}

/** A cycle anomaly; its steps and explanation are put into words only when read. */
function cycleAnomaly(analysis: Analysis, type: CycleAnomalyType, cycle: FoundCycle, components: number): TransactionAnomaly {
  let steps: CycleStep[] | undefined;
  let explanation: string[] | undefined;
  const getSteps = (): CycleStep[] => (steps ??= cycleSteps(analysis, cycle));
  return {
    type,
    get transactions() {
      return getSteps().map((s) => s.from);
    },
    get description() {
      return `${type}: ${cyclePath(getSteps())}`;
    },
    not: weakestRuledOut(type),
    get cycle() {
      return getSteps();
    },
    get explanation() {
      return (explanation ??= explainSteps(analysis.txns, getSteps()));
    },
    components,
    shortest: cycle.shortest,
  };
}

interface Plan {
  readonly asked: readonly ConsistencyModel[];
  readonly prohibited: ReadonlySet<AnomalyType>;
  readonly searched: { readonly list: readonly AnomalyType[]; readonly all: ReadonlySet<AnomalyType>; readonly cycles: ReadonlySet<CycleAnomalyType> };
  readonly levels: readonly number[];
}
const plans = new Map<string, Plan>();
/** What to search and what decides validity, for these options (cached: the model checker asks the same thing per state). */
function planFor(options: TransactionCheckOptions, askedAnomalies: readonly string[], timestamps: boolean): Plan {
  const modelNames = [...(options.model !== undefined ? [options.model] : []), ...(options.models ?? [])];
  const key = JSON.stringify([modelNames, askedAnomalies, options.exhaustive !== false, timestamps]);
  const cached = plans.get(key);
  if (cached) return cached;
  const asked = [...new Set((modelNames.length === 0 && askedAnomalies.length === 0 ? ['serializable'] : modelNames).map(parseModel))];
  const prohibited = new Set<AnomalyType>([...asked.flatMap((m) => [...forbiddenAnomalies(m)]), ...askedAnomalies.flatMap(parseAnomaly)]);
  const everything = askedAnomalies.length === 0 && options.exhaustive !== false;
  const list = (everything ? [...ANOMALIES] : ANOMALIES.filter((a) => prohibited.has(a))).filter((a) => timestamps || !isCycleAnomaly(a) || cycleShape(a).level < 3);
  const cycles = new Set(list.filter(isCycleAnomaly));
  const plan: Plan = { asked, prohibited, searched: { list, all: new Set(list), cycles }, levels: [...new Set([...cycles].map((a) => cycleShape(a).level))] };
  if (plans.size > 1000) plans.clear();
  plans.set(key, plan);
  return plan;
}

const weakest = new Map<AnomalyType, readonly ConsistencyModel[]>();
/** The weakest models an anomaly rules out (cached). */
function weakestRuledOut(type: AnomalyType): readonly ConsistencyModel[] {
  let w = weakest.get(type);
  if (!w) weakest.set(type, (w = weakestModels(ruledOutModels([type]))));
  return w;
}

/** Renders an anomaly: its line, the weakest models it rules out, and for a cycle its explanation. */
export function formatAnomaly(a: TransactionAnomaly): string {
  const rules = a.not.length > 0 ? ` [rules out ${a.not.join(', ')}]` : '';
  if (!a.cycle) return `${a.description}${rules}`;
  const more = a.components && a.components > 1 ? `, seen in ${a.components} components` : '';
  const head = `${a.type} (cycle of ${a.cycle.length}${a.shortest === false ? ', short but maybe not shortest' : ''}${more}): ${cyclePath(a.cycle)}${rules}`;
  return [head, ...(a.explanation ?? []).map((l) => `  ${l}`)].join('\n');
}
