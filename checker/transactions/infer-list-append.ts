/**
 * Elle's list-append inference. Each key is a list; transactions append unique elements and
 * read whole lists. Every committed read of a key is a prefix of one order of its appends, so
 * the longest read gives the key's version order (element by element); a read that is not a
 * prefix of the longest is an incompatible order. With the order:
 * - `wr`: T2 read a list ending in T1's element: T1 < T2;
 * - `ww`: T2 appended the element right after T1's: T1 < T2 (an append no read shows came
 *   after every element some read shows);
 * - `rw`: T1 read the list as it was just before T2's element: T1 < T2.
 * Directly: G1a (a committed read shows an aborted append), G1b (a read ends in an append that
 * was not its transaction's last to that key), dirty update (a committed element after an
 * aborted one in the order), duplicate elements, internal (a read disagrees with the
 * transaction's own earlier read and appends), future read (a read shows an element the
 * transaction appends later), lost update (two committed transactions read the same state of a
 * key and both appended to it), garbage read (an element no transaction appended; keys start
 * empty unless `initialState: 'unknown'`).
 */
import { HistoryFormatError } from '../history/errors.ts';
import { explainOrderEdge, Findings, KeyTable, T, type Analysis, type InferOptions, type StepExplanation } from './analysis.ts';
import { addOrderEdges } from './infer-common.ts';
import { info, kindOf, RW, TxnGraph, WR, WW } from './txn-graph.ts';
import { showValue, type Transaction, type TransactionHistory, type TxnKey, type TxnValue } from './transaction.ts';

interface Appender {
  readonly txn: number;
  /** another append of the same key follows in the same transaction */
  readonly intermediate: boolean;
}

interface KeyState {
  readonly key: TxnKey;
  readonly id: number;
  /** element → appender */
  readonly appenders: Map<TxnValue, Appender>;
  /** the longest committed read (reference into the history) */
  longest: readonly TxnValue[];
  longestReader: number;
  /** the version order: distinct elements of the longest read, or a single append */
  order: readonly TxnValue[];
  /** element → position in `order` */
  pos: Map<TxnValue, number>;
  /** readers by the last element of what they read; readers of the empty list apart */
  readersByLast: Map<TxnValue, number[]>;
  readersOfEmpty: number[];
  /** first positions in `longest` of: an element seen earlier in it, one nobody appended, one an aborted transaction appended (Infinity: none) */
  firstDuplicate: number;
  firstGarbage: number;
  firstAborted: number;
}

const EMPTY: readonly TxnValue[] = [];
const asList = (v: unknown): readonly TxnValue[] => (v === null ? EMPTY : (v as readonly TxnValue[]));

/** Runs the list-append inference. Throws {@link HistoryFormatError} when an element is appended twice to a key. */
export function inferListAppend(history: TransactionHistory, options: InferOptions): Analysis {
  const txns = history.transactions;
  const file = history.file ?? '<transactions>';
  const n = txns.length;
  const findings = new Findings();
  const keyTable = new KeyTable();
  const keys: KeyState[] = [];
  const stateOf = (key: TxnKey): KeyState => {
    const id = keyTable.id(key);
    let s = keys[id];
    if (!s) {
      s = { key, id, appenders: new Map(), longest: EMPTY, longestReader: -1, order: EMPTY, pos: new Map(), readersByLast: new Map(), readersOfEmpty: [], firstDuplicate: Infinity, firstGarbage: Infinity, firstAborted: Infinity };
      keys[id] = s;
    }
    return s;
  };

  // 1. Key ids of every operation (looked up once), appenders (every transaction: aborted
  //    ones too, for G1a), longest reads, in-transaction checks.
  const offset = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offset[i + 1] = offset[i]! + txns[i]!.ops.length;
  const opKey = new Int32Array(offset[n]!);
  for (const t of txns) {
    const ops = t.ops;
    const base = offset[t.id]!;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const s = stateOf(op.key);
      opKey[base + i] = s.id;
      if (op.f !== 'append') continue;
      const other = s.appenders.get(op.value);
      if (other) {
        throw new HistoryFormatError(
          file,
          t.line ?? 0,
          `${T(t.id)} appends ${showValue(op.value)} to ${String(op.key)}, already appended by ${T(other.txn)}; list-append needs elements unique per key`,
        );
      }
      let intermediate = false;
      for (let j = i + 1; j < ops.length && !intermediate; j++) intermediate = ops[j]!.f === 'append' && ops[j]!.key === op.key;
      s.appenders.set(op.value, { txn: t.id, intermediate });
    }
    if (t.status !== 'committed') continue;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'r') continue;
      const list = asList(op.value);
      const s = keys[opKey[base + i]!]!;
      if (list.length > s.longest.length) {
        s.longest = list;
        s.longestReader = t.id;
      }
    }
    checkWithinTransaction(t, findings);
  }

  // 2. Version orders; which unknown transactions took effect (some read shows their append).
  const effective = new Uint8Array(n);
  for (const t of txns) if (t.status === 'committed') effective[t.id] = 1;
  for (const s of keys) {
    let order = s.longest;
    const seen = new Set<TxnValue>();
    order.forEach((v, i) => {
      if (seen.has(v)) s.firstDuplicate = Math.min(s.firstDuplicate, i);
      seen.add(v);
      const a = s.appenders.get(v);
      if (!a) s.firstGarbage = Math.min(s.firstGarbage, i);
      else if (txns[a.txn]!.status === 'aborted') s.firstAborted = Math.min(s.firstAborted, i);
    });
    if (s.firstDuplicate !== Infinity) order = [...seen];
    if (order.length === 0 && s.appenders.size === 1) {
      const [[v, a]] = [...s.appenders];
      if (txns[a.txn]!.status !== 'aborted') order = [v];
    } else {
      for (const v of order) {
        const a = s.appenders.get(v);
        if (a && txns[a.txn]!.status === 'unknown') effective[a.txn] = 1;
      }
    }
    s.order = order;
    order.forEach((v, i) => s.pos.set(v, i));
  }

  // 3. Each committed read against its key's order: prefix check, garbage, aborted and
  //    intermediate elements, duplicates; index readers by the state they saw; wr edges.
  const graph = new TxnGraph(n);
  const incompatibleKeys = new Set<number>();
  for (const t of txns) {
    if (t.status !== 'committed') continue;
    const ops = t.ops;
    const base = offset[t.id]!;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'r') continue;
      const list = asList(op.value);
      const s = keys[opKey[base + i]!]!;
      checkRead(t, s, list, findings, txns, options, incompatibleKeys);
      if (list.length === 0) s.readersOfEmpty.push(t.id);
      else {
        const last = list[list.length - 1]!;
        let readers = s.readersByLast.get(last);
        if (!readers) s.readersByLast.set(last, (readers = []));
        readers.push(t.id);
        const a = s.appenders.get(last);
        if (a && effective[a.txn]) graph.add(a.txn, t.id, info(WR, 0), s.id);
      }
    }
  }
  for (const s of keys) checkDirtyUpdate(s, txns, findings);
  lostUpdates(txns, findings);

  // 4. ww and rw edges.
  for (const t of txns) {
    if (!effective[t.id]) continue;
    const ops = t.ops;
    const base = offset[t.id]!;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'append') continue;
      const s = keys[opKey[base + i]!]!;
      const prev = previousElement(s, op.value);
      if (prev !== undefined) {
        const a = s.appenders.get(prev);
        if (a && effective[a.txn]) graph.add(a.txn, t.id, info(WW, 0), s.id);
      }
      const readers = prev === undefined ? s.readersOfEmpty : s.readersByLast.get(prev);
      if (readers) for (const r of readers) graph.add(r, t.id, info(RW, 0), s.id);
    }
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
    const kind = kindOf(graph.edgeInfo(e));
    if (kind === WR) {
      const read = b.ops.find((op) => op.f === 'r' && op.key === s.key && asList(op.value).length > 0 && s.appenders.get(asList(op.value).at(-1)!)?.txn === a.id)!;
      const list = asList(read.value);
      return { type: 'wr', key: s.key, text: `${T(b.id)} read ${k} = ${showValue(list)}, which ends with ${T(a.id)}'s append of ${showValue(list.at(-1)!)}` };
    }
    for (const op of b.ops) {
      if (op.f !== 'append' || op.key !== s.key) continue;
      const prev = previousElement(s, op.value);
      if (kind === WW && prev !== undefined && s.appenders.get(prev)?.txn === a.id) {
        const how = s.pos.has(op.value) ? 'right after' : 'after every element read so far, the last being';
        return { type: 'ww', key: s.key, text: `${T(b.id)} appended ${showValue(op.value)} to ${k} ${how} ${T(a.id)}'s ${showValue(prev)}` };
      }
      if (kind === RW) {
        const readers = prev === undefined ? s.readersOfEmpty : s.readersByLast.get(prev);
        if (!readers?.includes(a.id)) continue;
        const seen = prev === undefined ? '[] (empty)' : showValue(s.order.slice(0, s.pos.get(prev)! + 1));
        return { type: 'rw', key: s.key, text: `${T(a.id)} read ${k} = ${seen}, which lacks ${T(b.id)}'s later append of ${showValue(op.value)}` };
      }
    }
    return { type: kind === WW ? 'ww' : 'rw', key: s.key, text: `${T(a.id)} precedes ${T(b.id)} on ${k}` };
  };

  return { workload: 'list-append', txns, effective, graph, direct: findings.list, directCounts: findings.counts, explain };
}

/** The element just before `v` in the key's order; for an append no read shows, the last element read. `undefined`: the empty list. */
function previousElement(s: KeyState, v: TxnValue): TxnValue | undefined {
  const p = s.pos.get(v);
  if (p === undefined) return s.order.length > 0 ? s.order[s.order.length - 1] : undefined;
  return p > 0 ? s.order[p - 1] : undefined;
}

function checkRead(t: Transaction, s: KeyState, list: readonly TxnValue[], f: Findings, txns: readonly Transaction[], options: InferOptions, incompatible: Set<number>): void {
  const k = String(s.key);
  const longest = s.longest;
  const n = list.length;
  let prefix = n <= longest.length;
  if (prefix && list !== longest) for (let i = 0; i < n; i++) if (list[i] !== longest[i]) { prefix = false; break; }
  if (!prefix && !incompatible.has(s.id)) {
    incompatible.add(s.id);
    f.add(
      'incompatible-order',
      [s.longestReader, t.id],
      () => `${T(t.id)} read ${k} = ${showValue(list)} and ${T(s.longestReader)} read ${showValue(longest)}: neither is a prefix of the other, so no single order of appends explains both`,
      s.key,
    );
  }
  // a prefix of the longest read has what the longest has up to its length; others are scanned
  const duplicate = prefix ? s.firstDuplicate < n : n > 1 && new Set(list).size !== n;
  const garbage = prefix ? s.firstGarbage < n : list.some((v) => !s.appenders.has(v));
  const aborted = prefix ? s.firstAborted < n : list.some((v) => txns[s.appenders.get(v)?.txn ?? -1]?.status === 'aborted');
  if (duplicate) {
    const seen = new Set<TxnValue>();
    const dups = list.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
    f.add('duplicate-elements', [t.id], () => `${T(t.id)} read ${k} = ${showValue(list)}, which holds ${showValue([...new Set(dups)])} more than once`, s.key);
  }
  if (garbage && options.initialState === 'empty') {
    const v = list.find((x) => !s.appenders.has(x))!;
    f.add('garbage-read', [t.id], () => `${T(t.id)} read ${k} = ${showValue(list)}, but no transaction appended ${showValue(v)} (keys start empty)`, s.key);
  }
  if (aborted) {
    for (const v of list) {
      const a = s.appenders.get(v);
      if (a && txns[a.txn]!.status === 'aborted') f.add('G1a', [a.txn, t.id], () => `${T(t.id)} read ${k} = ${showValue(list)}, and ${showValue(v)} was appended by ${T(a.txn)}, which aborted`, s.key);
    }
  }
  if (n > 0) {
    const last = list[n - 1]!;
    const a = s.appenders.get(last);
    if (a && a.intermediate && a.txn !== t.id) {
      f.add('G1b', [a.txn, t.id], () => `${T(t.id)} read ${k} = ${showValue(list)}, ending in ${showValue(last)}, an intermediate append of ${T(a.txn)} (it appended more to ${k} afterwards)`, s.key);
    }
  }
}

/** Whether some key appears twice among the operations (only then can a transaction contradict itself). */
function repeatsKey(ops: Transaction['ops']): boolean {
  for (let i = 1; i < ops.length; i++) for (let j = 0; j < i; j++) if (ops[i]!.key === ops[j]!.key) return true;
  return false;
}

/** Internal consistency and future reads within one committed transaction. */
function checkWithinTransaction(t: Transaction, f: Findings): void {
  const ops = t.ops;
  if (ops.length < 2 || !repeatsKey(ops)) return;
  // expected state per key: a known list, or an unknown prefix followed by known appends
  const state = new Map<TxnKey, { known: boolean; elems: TxnValue[] }>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.f === 'append') {
      const s = state.get(op.key);
      if (s) s.elems.push(op.value);
      else state.set(op.key, { known: false, elems: [op.value] });
      continue;
    }
    if (op.f !== 'r') continue;
    const list = asList(op.value);
    // a future read: this read shows an element the transaction appends later
    for (let j = i + 1; j < ops.length; j++) {
      const later = ops[j]!;
      if (later.f === 'append' && later.key === op.key && list.includes(later.value)) {
        f.add('future-read', [t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(list)}, which holds ${showValue(later.value)}, appended later by ${T(t.id)} itself`, op.key);
        break;
      }
    }
    const s = state.get(op.key);
    if (s) {
      const ok = s.known ? s.elems.length === list.length && s.elems.every((v, k) => v === list[k]) : list.length >= s.elems.length && s.elems.every((v, k) => v === list[list.length - s.elems.length + k]);
      if (!ok) {
        const expected = s.known ? showValue(s.elems) : `[... ${s.elems.map((v) => showValue(v)).join(' ')}]`;
        f.add('internal', [t.id], () => `${T(t.id)} read ${String(op.key)} = ${showValue(list)}, but its own earlier operations say ${expected}`, op.key);
      }
    }
    state.set(op.key, { known: true, elems: [...list] });
  }
}

/** A committed element after an aborted one in a key's order. */
function checkDirtyUpdate(s: KeyState, txns: readonly Transaction[], f: Findings): void {
  let aborted: number | undefined;
  for (const v of s.order) {
    const a = s.appenders.get(v);
    if (!a) continue;
    const status = txns[a.txn]!.status;
    if (status === 'aborted') aborted ??= a.txn;
    else if (status === 'committed' && aborted !== undefined) {
      const abortedTxn = aborted;
      f.add('dirty-update', [abortedTxn, a.txn], () => `${String(s.key)}: ${T(a.txn)} appended ${showValue(v)} after elements of ${T(abortedTxn)}, which aborted, so committed state was built on an aborted write`, s.key);
      return;
    }
  }
}

/** Two committed transactions read the same state of a key and both appended to it. */
function lostUpdates(txns: readonly Transaction[], f: Findings): void {
  const groups = new Map<TxnKey, Map<string, number[]>>();
  for (const t of txns) {
    if (t.status !== 'committed' || !repeatsKey(t.ops)) continue;
    const firstRead = new Map<TxnKey, readonly TxnValue[]>();
    const counted = new Set<TxnKey>();
    for (const op of t.ops) {
      if (op.f === 'r') {
        if (!firstRead.has(op.key) && !counted.has(op.key)) firstRead.set(op.key, asList(op.value));
      } else if (op.f === 'append' && !counted.has(op.key)) {
        counted.add(op.key);
        const read = firstRead.get(op.key);
        if (!read) continue;
        const state = `${read.length}:${read.length > 0 ? typeof read.at(-1) + String(read.at(-1)) : ''}`;
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
      f.add('lost-update', ids, () => `${ids.map(T).join(', ')} all read ${String(key)} = ${showValue(asList(read.value))} and all appended to it: one update is lost in any order`, key);
    }
  }
}
