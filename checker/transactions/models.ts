/**
 * Anomaly names, what implies what, and the lattice of consistency models with what each
 * forbids. The structure follows Elle (jepsen-io/elle, `elle.consistency-model`), which draws
 * on Adya's thesis, Adya–Liskov–O'Neil, Bailis et al. (HATs), Cerone–Gotsman (SI) and
 * Daudjee–Salem (strong session SI); the tables below are pacta's own restatement of the part
 * of it that pacta checks (item anomalies, no predicates), plus one pacta extension:
 * external consistency (commit-timestamp order, for Spanner-style systems).
 *
 * Three notions:
 * - an anomaly **implies** another when every history showing the first shows the second
 *   (G0 implies G1c; a cycle with process edges implies one with real-time edges, since a
 *   process runs one transaction at a time);
 * - a model **forbids** anomalies; stronger models forbid everything weaker ones do;
 * - a found anomaly **rules out** every model forbidding it or anything it implies; the
 *   weakest of those are what a report names first (Elle's `:not`), the rest are `alsoNot`.
 */
import type { IsolationLevel } from '../../specs/core/index.ts';
import { HistoryCheckerError } from '../history/errors.ts';

/** Cycle anomalies without a suffix: the data-dependency shape of the cycle. */
export const CYCLE_BASES = ['G0', 'G1c', 'G-single', 'G-nonadjacent', 'G2-item'] as const;
export type CycleBase = (typeof CYCLE_BASES)[number];

/**
 * Which order edges a cycle needs besides data dependencies: none, process order (a
 * session's transactions in sequence), real-time order (one finished before the other
 * began), or commit-timestamp order (pacta's extension). A cycle takes the strongest it uses.
 */
export const CYCLE_LEVELS = ['', '-process', '-realtime', '-timestamp'] as const;
export type CycleLevel = 0 | 1 | 2 | 3;

/** Every cycle anomaly: `G0`, `G0-process`, ..., `G2-item-timestamp`. */
export type CycleAnomalyType = `${CycleBase}${(typeof CYCLE_LEVELS)[number]}`;

/** Anomalies seen without a cycle search. */
export const DIRECT_ANOMALIES = [
  'G1a',
  'G1b',
  'internal',
  'future-read',
  'lost-update',
  'dirty-update',
  'duplicate-elements',
  'incompatible-order',
  'garbage-read',
] as const;
export type DirectAnomalyType = (typeof DIRECT_ANOMALIES)[number];

/** Every anomaly a check can report. */
export type AnomalyType = DirectAnomalyType | CycleAnomalyType;

/** Aggregates that only name a set (never reported): G1 = G1a ∪ G1b ∪ G1c, G2 = any anti-dependency cycle. */
type Aggregate = 'G1' | 'G1-process' | 'G1-realtime' | 'G1-timestamp' | 'G2' | 'G2-process' | 'G2-realtime' | 'G2-timestamp';
type Node = AnomalyType | Aggregate;

/** The cycle anomalies in search order: most severe first, then by the order edges they need. */
export const CYCLE_ANOMALIES: readonly CycleAnomalyType[] = CYCLE_LEVELS.flatMap((suffix) => CYCLE_BASES.map((b) => `${b}${suffix}` as CycleAnomalyType));

/** Every reportable anomaly name. */
export const ANOMALIES: readonly AnomalyType[] = [...DIRECT_ANOMALIES, ...CYCLE_ANOMALIES];

/** Splits a cycle anomaly into its base and level. */
export function cycleShape(type: CycleAnomalyType): { base: CycleBase; level: CycleLevel } {
  for (let level = 3; level >= 1; level--) {
    const suffix = CYCLE_LEVELS[level]!;
    if (type.endsWith(suffix)) return { base: type.slice(0, -suffix.length) as CycleBase, level: level as CycleLevel };
  }
  return { base: type as CycleBase, level: 0 };
}
export const isCycleAnomaly = (t: AnomalyType): t is CycleAnomalyType => (CYCLE_ANOMALIES as readonly string[]).includes(t);

// ---------------------------------------------------------------------------------------------
// Implications between anomalies (a → b: every history with a has b).
const IMPLIES = new Map<Node, Node[]>();
const imply = (a: Node, ...bs: Node[]): void => void IMPLIES.set(a, [...(IMPLIES.get(a) ?? []), ...bs]);
{
  const lv = CYCLE_LEVELS;
  for (let l = 0; l < 4; l++) {
    const s = lv[l]!;
    const up = l < 3 ? lv[l + 1]! : undefined;
    // the same cycle also counts at the next level (a process cycle is a real-time cycle; a
    // real-time cycle is a timestamp-level one, since external consistency includes real time)
    if (up !== undefined) for (const b of CYCLE_BASES) imply(`${b}${s}` as Node, `${b}${up}` as Node);
    imply(`G0${s}` as Node, `G1c${s}` as Node);
    imply(`G1c${s}` as Node, `G1${s}` as Node);
    imply(`G-single${s}` as Node, `G-nonadjacent${s}` as Node);
    imply(`G-nonadjacent${s}` as Node, `G2-item${s}` as Node);
    imply(`G2-item${s}` as Node, `G2${s}` as Node);
    if (up !== undefined) {
      imply(`G1${s}` as Node, `G1${up}` as Node);
      imply(`G2${s}` as Node, `G2${up}` as Node);
    }
  }
  imply('G1a', 'G1');
  imply('G1b', 'G1');
  // an order no single history of appends explains: some read saw a state that was never committed
  imply('incompatible-order', 'G1a');
  // an aborted append became part of a committed state
  imply('dirty-update', 'G1a');
  // a value that no transaction wrote was not written by a committed one either
  imply('garbage-read', 'G1a');
  // reading one's own later write: a one-transaction information cycle
  imply('future-read', 'G1c');
  // two committed transactions read the same version and both overwrote it (Adya's H_lu)
  imply('lost-update', 'G2-item');
}

/** `a` and everything it implies, transitively. */
function impliedBy(a: Node): Set<Node> {
  const seen = new Set<Node>([a]);
  const stack = [a];
  while (stack.length > 0) for (const b of IMPLIES.get(stack.pop()!) ?? []) if (!seen.has(b)) (seen.add(b), stack.push(b));
  return seen;
}
const IMPLIED: ReadonlyMap<Node, ReadonlySet<Node>> = new Map(
  ([...ANOMALIES, 'G1', 'G1-process', 'G1-realtime', 'G1-timestamp', 'G2', 'G2-process', 'G2-realtime', 'G2-timestamp'] as Node[]).map((a) => [a, impliedBy(a)]),
);

/** The anomalies `a` implies (itself included), reportable ones only. */
export function impliedAnomalies(a: AnomalyType): AnomalyType[] {
  return [...IMPLIED.get(a)!].filter((x): x is AnomalyType => (ANOMALIES as readonly string[]).includes(x));
}

/** The reportable anomalies that imply `a` (itself included when reportable). */
function implying(a: Node): AnomalyType[] {
  return ANOMALIES.filter((x) => IMPLIED.get(x)!.has(a));
}

// ---------------------------------------------------------------------------------------------
// Models.

/**
 * The consistency models, by Elle's names, plus `external-consistency` (one definition, shared
 * with the spec contract's `IsolationLevel`). Adya's names are accepted as aliases (see
 * {@link MODEL_ALIASES}).
 */
export type ConsistencyModel = IsolationLevel;

/** The models, weakest first: every model comes after the models it implies (a linear extension of the lattice). */
export const CONSISTENCY_MODELS: readonly ConsistencyModel[] = [
  'read-uncommitted',
  'read-committed',
  'monotonic-atomic-view',
  'repeatable-read',
  'snapshot-isolation',
  'serializable',
  'strong-session-snapshot-isolation',
  'strong-session-serializable',
  'strong-snapshot-isolation',
  'strict-serializable',
  'external-consistency',
];

/** Other names for models: Adya's PL levels, and Elle's synonyms. */
export const MODEL_ALIASES: Readonly<Record<string, ConsistencyModel>> = {
  'PL-1': 'read-uncommitted',
  'PL-2': 'read-committed',
  'PL-2.99': 'repeatable-read',
  'PL-SI': 'snapshot-isolation',
  'PL-3': 'serializable',
  'conflict-serializable': 'serializable',
  'PL-SS': 'strict-serializable',
  'strong-serializable': 'strict-serializable',
};

/** Each model's directly weaker models (a history satisfying the model satisfies these). */
const WEAKER: Readonly<Record<ConsistencyModel, readonly ConsistencyModel[]>> = {
  'read-uncommitted': [],
  'read-committed': ['read-uncommitted'],
  'monotonic-atomic-view': ['read-committed'],
  'repeatable-read': ['monotonic-atomic-view'],
  'snapshot-isolation': ['monotonic-atomic-view'],
  serializable: ['repeatable-read', 'snapshot-isolation'],
  'strong-session-snapshot-isolation': ['snapshot-isolation'],
  'strong-session-serializable': ['serializable', 'strong-session-snapshot-isolation'],
  'strong-snapshot-isolation': ['strong-session-snapshot-isolation'],
  'strict-serializable': ['strong-session-serializable', 'strong-snapshot-isolation'],
  'external-consistency': ['strict-serializable'],
};

/**
 * What each model forbids on top of the models it implies (the anomalies named and everything
 * that implies them). Monotonic atomic view adds nothing here: like Elle, pacta has no anomaly
 * for a fractured read that is not also a cycle ruling out stronger models.
 */
const DIRECT_FORBIDS: Readonly<Record<ConsistencyModel, readonly Node[]>> = {
  'read-uncommitted': ['G0', 'duplicate-elements'],
  'read-committed': ['G1'],
  'monotonic-atomic-view': [],
  // repeatable read implies cursor stability, which forbids lost updates
  'repeatable-read': ['G2-item', 'lost-update'],
  // Adya's PL-SI forbids G-single; generalized SI forbids every cycle whose anti-dependency
  // edges are never adjacent (Cerone–Gotsman), i.e. G-nonadjacent; SI also implies cursor stability
  'snapshot-isolation': ['internal', 'G-nonadjacent', 'lost-update'],
  serializable: ['internal', 'G2'],
  'strong-session-snapshot-isolation': ['G1-process', 'G-nonadjacent-process'],
  'strong-session-serializable': ['G1-process', 'G2-process'],
  'strong-snapshot-isolation': ['G1-realtime', 'G-nonadjacent-realtime'],
  'strict-serializable': ['G1-realtime', 'G2-realtime'],
  'external-consistency': ['G1-timestamp', 'G2-timestamp'],
};

/** A model and every model it implies. */
function computeWeakerOrEqual(m: ConsistencyModel): Set<ConsistencyModel> {
  const seen = new Set<ConsistencyModel>([m]);
  const stack = [m];
  while (stack.length > 0) for (const w of WEAKER[stack.pop()!]) if (!seen.has(w)) (seen.add(w), stack.push(w));
  return seen;
}
const WEAKER_OR_EQUAL = new Map(CONSISTENCY_MODELS.map((m) => [m, computeWeakerOrEqual(m)]));
const weakerOrEqual = (m: ConsistencyModel): ReadonlySet<ConsistencyModel> => WEAKER_OR_EQUAL.get(m)!;

const FORBIDDEN: Readonly<Record<ConsistencyModel, ReadonlySet<AnomalyType>>> = Object.fromEntries(
  CONSISTENCY_MODELS.map((m) => [m, new Set([...weakerOrEqual(m)].flatMap((w) => DIRECT_FORBIDS[w].flatMap((a) => implying(a))))]),
) as unknown as Record<ConsistencyModel, ReadonlySet<AnomalyType>>;

/** The anomaly classes a model forbids. */
export function forbiddenAnomalies(model: ConsistencyModel): ReadonlySet<AnomalyType> {
  return FORBIDDEN[model];
}

/** The models ruled out by anomalies: every model forbidding one of them. */
export function ruledOutModels(anomalies: Iterable<AnomalyType>): Set<ConsistencyModel> {
  const found = [...new Set(anomalies)];
  const out = new Set<ConsistencyModel>();
  if (found.length === 0) return out;
  for (const m of CONSISTENCY_MODELS) if (found.some((a) => FORBIDDEN[m].has(a))) out.add(m);
  return out;
}

/** The weakest models of a set: those implying no other model of the set (Elle's `:not`). */
export function weakestModels(models: Iterable<ConsistencyModel>): ConsistencyModel[] {
  const list = [...new Set(models)];
  return list.length === 0 ? [] : CONSISTENCY_MODELS.filter((m) => list.includes(m) && !list.some((o) => o !== m && weakerOrEqual(m).has(o)));
}

/** Whether model `a` implies model `b` (a history satisfying `a` satisfies `b`). */
export function modelImplies(a: ConsistencyModel, b: ConsistencyModel): boolean {
  return weakerOrEqual(a).has(b);
}

// ---------------------------------------------------------------------------------------------
// Names as users type them.

/** Anomaly names accepted besides the reported ones: Elle's `-item` spellings, and the G1/G2 aggregates. */
export const ANOMALY_ALIASES: Readonly<Record<string, readonly AnomalyType[]>> = (() => {
  const out: Record<string, AnomalyType[]> = {};
  for (const s of CYCLE_LEVELS) {
    out[`G-single-item${s}`] = [`G-single${s}` as AnomalyType];
    out[`G-nonadjacent-item${s}`] = [`G-nonadjacent${s}` as AnomalyType];
  }
  out.G1 = implying('G1');
  out.G2 = implying('G2');
  return out;
})();

/** Resolves a model name or alias; throws `checkTransactions/unknown-model` naming the known ones. */
export function parseModel(name: string): ConsistencyModel {
  if ((CONSISTENCY_MODELS as readonly string[]).includes(name)) return name as ConsistencyModel;
  const alias = MODEL_ALIASES[name];
  if (alias) return alias;
  throw new HistoryCheckerError(
    'checkTransactions/unknown-model',
    `unknown model ${JSON.stringify(name)}; known: ${[...CONSISTENCY_MODELS, ...Object.keys(MODEL_ALIASES)].join(', ')}`,
  );
}

/**
 * Resolves an anomaly name to the anomalies a check must look for: the anomaly and every
 * anomaly implying it (asking for G2 finds G-single too, as in Elle). Throws
 * `checkTransactions/unknown-anomaly`.
 */
export function parseAnomaly(name: string): AnomalyType[] {
  const aliased = ANOMALY_ALIASES[name];
  if (aliased) return [...new Set(aliased.flatMap((a) => implying(a)))];
  if ((ANOMALIES as readonly string[]).includes(name)) return implying(name as AnomalyType);
  throw new HistoryCheckerError(
    'checkTransactions/unknown-anomaly',
    `unknown anomaly ${JSON.stringify(name)}; known: ${[...ANOMALIES, 'G1', 'G2', 'G-single-item', 'G-nonadjacent-item'].join(', ')} (cycle anomalies also with -process, -realtime, -timestamp)`,
  );
}
