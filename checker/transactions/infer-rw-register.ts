/**
 * Elle's rw-register inference. Each key is a register; values are unique per key, so a read
 * names the write it saw (`wr`). The version order is only partly known, from facts:
 * - the initial nil precedes every version (a reader of nil anti-depends on every writer);
 * - with `wfrKeys` (on by default): a transaction that read version v of a key and then wrote
 *   it put v before its own version;
 * - process order (level "process", or a plain fact with `sequentialKeys`): of two
 *   transactions of one process touching a key, the later one's first version of the key
 *   follows the earlier one's last;
 * - real-time order (level "realtime", or a plain fact with `linearizableKeys`): the same for a
 *   transaction that finished before the other began;
 * - commit timestamps (level "timestamp"): versions in commit-timestamp order.
 * Each fact v1 < v2 gives `ww` from v1's writer to v2's, and `rw` from v1's readers to v2's
 * writer (Elle's construction: direct facts only, never their transitive closure, as Adya's
 * edges go to the next version). An edge resting on process, real time or timestamps counts
 * only for cycles of that level.
 *
 * A read of a value no transaction wrote: with `initialState: 'unknown'` (Elle's convention,
 * the default here) it may be the key's value before the history began, and shows nothing;
 * with `'empty'` it is a garbage read.
 */
import { HistoryFormatError } from '../history/errors.ts';
import { explainOrderEdge, Findings, KeyTable, T, type Analysis, type InferOptions, type StepExplanation } from './analysis.ts';
import { addOrderEdges } from './infer-common.ts';
import { processPairs, realtimePairs, timestampPairs } from './order-edges.ts';
import { info, kindOf, levelOf, RW, TxnGraph, whyOf, WHY_INITIAL, WHY_PROCESS, WHY_REALTIME, WHY_TIMESTAMP, WHY_WFR, WR, WW } from './txn-graph.ts';
import { showValue, type Transaction, type TransactionHistory, type TxnKey, type TxnValue } from './transaction.ts';

interface Write {
  readonly txn: number;
  /** the transaction's last write of the key: the version it installs */
  readonly final: boolean;
}

/** A version is its writer's id, or INIT for the initial nil. */
const INIT = -1;

interface KeyState {
  readonly key: TxnKey;
  readonly id: number;
  readonly writes: Map<TxnValue, Write>;
  /** effective transactions touching the key externally, in id order */
  readonly touching: Transaction[];
  /** readers by version read (writer id or INIT) */
  readonly readers: Map<number, number[]>;
}

interface External {
  /** version of the first external read (writer id, INIT), or undefined: no external read, or of an unattributed value */
  read?: number;
  readValue?: TxnValue | null;
  hasRead: boolean;
  /** final written value */
  write?: TxnValue;
}

/** Runs the rw-register inference. Throws {@link HistoryFormatError} when a value is written twice to a key. */
export function inferRwRegister(history: TransactionHistory, options: InferOptions): Analysis {
  const txns = history.transactions;
  const file = history.file ?? '<transactions>';
  const n = txns.length;
  const f = new Findings();
  const keyTable = new KeyTable();
  const keys: KeyState[] = [];
  const stateOf = (key: TxnKey): KeyState => {
    const id = keyTable.id(key);
    return (keys[id] ??= { key, id, writes: new Map(), touching: [], readers: new Map() });
  };

  // Every write, by key and value.
  for (const t of txns) {
    const ops = t.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'w') continue;
      const s = stateOf(op.key);
      const other = s.writes.get(op.value);
      if (other) {
        throw new HistoryFormatError(file, t.line ?? 0, `${T(t.id)} writes ${String(op.key)} = ${showValue(op.value)}, already written by ${T(other.txn)}; version inference needs values unique per key`);
      }
      let final = true;
      for (let j = i + 1; j < ops.length && final; j++) final = !(ops[j]!.f === 'w' && ops[j]!.key === op.key);
      s.writes.set(op.value, { txn: t.id, final });
    }
  }

  // External reads and writes per transaction and key; direct anomalies.
  const effective = new Uint8Array(n);
  const externals: (Map<number, External> | undefined)[] = new Array(n);
  const wr: [writer: number, reader: number, key: number][] = [];
  for (const t of txns) {
    if (t.status === 'committed') effective[t.id] = 1;
    if (t.status === 'aborted') continue;
    const ext = new Map<number, External>();
    externals[t.id] = ext;
    const local = new Map<TxnKey, TxnValue | null>(); // value the transaction last saw or wrote
    for (const op of t.ops) {
      const s = stateOf(op.key);
      let e = ext.get(s.id);
      if (!e) ext.set(s.id, (e = { hasRead: false }));
      if (op.f === 'w') {
        e.write = op.value;
        local.set(op.key, op.value);
        continue;
      }
      if (op.f !== 'r' || t.status !== 'committed') continue;
      const value = op.value as TxnValue | null;
      if (local.has(op.key)) {
        const expected = local.get(op.key)!;
        if (expected !== value) {
          const wrote = e.write !== undefined;
          f.add('internal', [t.id], () => `${T(t.id)} ${wrote ? 'wrote' : 'read'} ${String(op.key)} = ${showValue(expected)} and then read ${showValue(value)}`, op.key);
        }
        continue;
      }
      local.set(op.key, value);
      e.hasRead = true;
      e.readValue = value;
      if (value === null) {
        e.read = INIT;
        continue;
      }
      const w = s.writes.get(value);
      if (!w) {
        if (options.initialState === 'empty') f.add('garbage-read', [t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(value)}, which no transaction wrote (keys start nil)`, op.key);
      } else if (w.txn === t.id) {
        f.add('future-read', [t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(value)} before writing it`, op.key);
      } else if (txns[w.txn]!.status === 'aborted') {
        f.add('G1a', [w.txn, t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(value)}, written by ${T(w.txn)}, which aborted`, op.key);
      } else if (!w.final) {
        f.add('G1b', [w.txn, t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(value)}, an intermediate write of ${T(w.txn)} (not its last write of ${String(op.key)})`, op.key);
      } else {
        e.read = w.txn;
        // an unknown transaction whose write was read did commit
        effective[w.txn] = 1;
        wr.push([w.txn, t.id, s.id]);
      }
    }
  }
  lostUpdates(txns, f);

  // Per key: the effective transactions touching it and the readers of each version.
  for (const t of txns) {
    if (!effective[t.id]) continue;
    for (const [keyId, e] of externals[t.id]!) {
      if (e.write === undefined && !e.hasRead) continue;
      const s = keys[keyId]!;
      s.touching.push(t);
      if (e.read !== undefined && t.status === 'committed') {
        const list = s.readers.get(e.read);
        if (list) list.push(t.id);
        else s.readers.set(e.read, [t.id]);
      }
    }
  }

  const graph = new TxnGraph(n);
  for (const [w, r, k] of wr) graph.add(w, r, info(WR, 0), k);
  /** version of the key a transaction installed (its id) or first saw */
  const installs = (t: Transaction, keyId: number): boolean => externals[t.id]?.get(keyId)?.write !== undefined;
  const firstVersion = (t: Transaction, keyId: number): number | undefined => {
    const e = externals[t.id]!.get(keyId)!;
    if (e.hasRead) return t.status === 'committed' ? e.read : undefined;
    return e.write !== undefined ? t.id : undefined;
  };
  const lastVersion = (t: Transaction, keyId: number): number | undefined => {
    const e = externals[t.id]!.get(keyId)!;
    if (e.write !== undefined) return t.id;
    return t.status === 'committed' ? e.read : undefined;
  };
  const fact = (s: KeyState, a: number, b: number, level: number, why: number): void => {
    if (a === b || b === INIT) return;
    const word = (kind: number): number => info(kind as typeof WW, level, why);
    if (a !== INIT) graph.add(a, b, word(WW), s.id);
    const readers = s.readers.get(a);
    if (readers) for (const r of readers) graph.add(r, b, word(RW), s.id);
  };
  for (const s of keys) {
    if (!s) continue;
    const installers = s.touching.filter((t) => installs(t, s.id));
    for (const w of installers) {
      fact(s, INIT, w.id, 0, WHY_INITIAL);
      if (options.wfrKeys) {
        const e = externals[w.id]!.get(s.id)!;
        if (w.status === 'committed' && e.hasRead && e.read !== undefined && e.read !== INIT) fact(s, e.read, w.id, 0, WHY_WFR);
      }
    }
    const relate = (level: number, why: number) => (a: Transaction, b: Transaction) => {
      const va = lastVersion(a, s.id);
      const vb = firstVersion(b, s.id);
      if (va !== undefined && vb !== undefined && va !== vb) fact(s, va, vb, level, why);
    };
    if (options.process || options.sequentialKeys) processPairs(s.touching, relate(options.sequentialKeys ? 0 : 1, WHY_PROCESS));
    if (options.realtime || options.linearizableKeys) realtimePairs(s.touching, relate(options.linearizableKeys ? 0 : 2, WHY_REALTIME));
    if (options.timestamps) timestampPairs(installers, (a, b) => fact(s, a.id, b.id, 3, WHY_TIMESTAMP));
  }
  addOrderEdges(graph, txns, effective, options);
  graph.freeze();

  const explain = (e: number): StepExplanation => {
    const order = explainOrderEdge(graph, e, txns);
    if (order) return order;
    const a = txns[graph.edgeFrom(e)]!;
    const b = txns[graph.edgeTo(e)]!;
    const s = keys[graph.edgeKey(e)]!;
    const k = String(s.key);
    const word = graph.edgeInfo(e);
    const kind = kindOf(word);
    const ea = externals[a.id]?.get(s.id);
    const eb = externals[b.id]?.get(s.id);
    if (kind === WR) return { type: 'wr', key: s.key, text: `${T(a.id)} wrote ${k} = ${showValue(eb?.readValue ?? null)}, ${T(b.id)} read it` };
    const because = ((): string => {
      const why = whyOf(word);
      const level = levelOf(word);
      if (why === WHY_WFR) return ` (${T(b.id)} read ${showValue(eb?.readValue ?? null)} before writing ${showValue(eb?.write ?? null)})`;
      if (why === WHY_PROCESS) return level === 0 ? ' (version order from process order: keys assumed sequential)' : ' (version order from process order)';
      if (why === WHY_REALTIME) return level === 0 ? ' (version order from real time: keys assumed linearizable)' : ' (version order from real time)';
      if (why === WHY_TIMESTAMP) return ' (version order from commit timestamps)';
      return '';
    })();
    const newer = showValue(eb?.write ?? null);
    if (kind === WW) return { type: 'ww', key: s.key, text: `${T(a.id)} wrote ${k} = ${showValue(ea?.write ?? null)}, ${T(b.id)} overwrote it with ${newer}${because}` };
    // rw: a read a version that b's version follows
    const read = ea?.readValue ?? null;
    return { type: 'rw', key: s.key, text: `${T(a.id)} read ${k} = ${showValue(read)}, ${T(b.id)} overwrote it with ${newer}${because}` };
  };
  return { workload: 'rw-register', txns, effective, graph, direct: f.list, directCounts: f.counts, explain };
}

/** Two committed transactions read the same value of a key and both wrote it (Elle's lost update). */
function lostUpdates(txns: readonly Transaction[], f: Findings): void {
  const groups = new Map<TxnKey, Map<string, number[]>>();
  for (const t of txns) {
    if (t.status !== 'committed' || t.ops.length < 2) continue;
    const firstRead = new Map<TxnKey, TxnValue | null>();
    const counted = new Set<TxnKey>();
    for (const op of t.ops) {
      if (op.f === 'r') {
        if (!firstRead.has(op.key) && !counted.has(op.key)) firstRead.set(op.key, op.value as TxnValue | null);
      } else if (op.f === 'w' && !counted.has(op.key)) {
        counted.add(op.key);
        if (!firstRead.has(op.key)) continue;
        const v = firstRead.get(op.key)!;
        const state = v === null ? 'nil' : typeof v + String(v);
        let byKey = groups.get(op.key);
        if (!byKey) groups.set(op.key, (byKey = new Map()));
        const list = byKey.get(state);
        if (list) list.push(t.id);
        else byKey.set(state, [t.id]);
      }
    }
  }
  for (const [key, byState] of groups) {
    for (const ids of byState.values()) {
      if (ids.length < 2) continue;
      const read = txns[ids[0]!]!.ops.find((op) => op.f === 'r' && op.key === key)!;
      f.add('lost-update', ids, () => `${ids.map(T).join(', ')} all read ${String(key)} = ${showValue(read.value as TxnValue | null)} and all wrote it: one update is lost in any order`, key);
    }
  }
}
