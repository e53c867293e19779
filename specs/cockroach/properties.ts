/**
 * What CockroachDB promises, and the one thing it does not, as properties of the model's worlds.
 *
 * - **Serializability** of the client history (the transaction checker).
 * - **No stale reads of a single key**: per key, the history restricted to that key is strictly
 *   serializable (the transaction checker on each key's projection): a transaction that starts
 *   after another one that touched the key returned is ordered after it. This is what the
 *   uncertainty interval buys without atomic clocks.
 * - **Atomicity**: every committed version belongs to a transaction whose record is COMMITTED (or
 *   STAGING: implicitly committed) at that timestamp, and a transaction the client was told committed never has an ABORTED record.
 * - **HLC**: a leaseholder's clock is at or above every read timestamp in its timestamp cache (each
 *   arrived with a request its clock merged: a receive is never below its send) and every local
 *   timestamp of its values; l − pt ≤ maxOffset while clocks are within the offset; the counter
 *   stays below the packing's range. (Written timestamps may be one tick above the clock: a write
 *   goes above the timestamp cache, as CockroachDB's does.)
 * - The bank's total (with transfers).
 *
 * Not promised: strict serializability across keys. Two transactions on disjoint keys, the second
 * starting after the first returned, may get timestamps in the reverse order (the "causal reverse"
 * anomaly): the goal `causal reverse` reaches it, and the spec's test shows a third transaction that
 * observes the second's write but not the first's.
 */
import { invariant, reachable, transactional, type HistoryEntry, type SpecProperty, type TransactionRecord, type WorldReader } from '../core/index.ts';
import { completed, tagOf, totalConserved, transactionsOf, writeKeys, txnGoals, type TxnOp, type TxnResult } from '../txn/index.ts';
import { LOGICAL, pack } from './hlc.ts';
import type { Record } from './store.ts';
import type { Node, P } from './cockroach.ts';

/** The transactions of a history restricted to key `key` (those that do not touch it left out). */
export function keyProjection(records: readonly TransactionRecord[], key: number): TransactionRecord[] {
  const out: TransactionRecord[] = [];
  for (const r of records) {
    const ops = r.ops.filter((o) => o.key === key);
    if (ops.length > 0) out.push({ ...r, ops });
  }
  return out;
}

/** Every transaction record held by a leaseholder, by transaction. */
export function recordsOf(w: WorldReader): Map<string, Record> {
  const out = new Map<string, Record>();
  for (const s of w.states<Node>('node')) for (const r of s.ranges.values()) for (const [id, rec] of r.records) out.set(id, rec);
  return out;
}

/** What breaks atomicity, if anything. */
export function atomicityViolation(w: WorldReader): string | null {
  const records = recordsOf(w);
  for (const s of w.states<Node>('node')) {
    for (const [key, r] of s.ranges) {
      for (const v of r.versions) {
        const id = tagOf(v.value);
        const rec = records.get(id);
        if (rec && (rec.status === 'ABORTED' || rec.status === 'PENDING' || rec.ts !== v.ts)) return `key ${key} holds ${id}'s version at ${v.ts} but its record is ${rec.status} at ${rec.ts}`;
      }
    }
  }
  for (const d of completed(w.history())) {
    if (d.result.status !== 'committed' || writeKeys(d.op).length === 0) continue;
    const rec = records.get(tagOf(d));
    if (rec && rec.status === 'ABORTED') return `${tagOf(d)} was acknowledged committed but its record is ABORTED`;
  }
  return null;
}

/** The first HLC property a node breaks, if any. */
export function hlcViolation(w: WorldReader, p: P): string | null {
  for (const id of w.nodes('node')) {
    const s = w.node<Node>(id);
    const now = pack(s.hlc);
    if (s.hlc.c >= LOGICAL) return `node ${id}'s logical counter ${s.hlc.c} overflows`;
    const pt = Math.max(0, w.clock(id) + (id === w.nodes('node')[0] ? p.skew : 0));
    if (s.hlc.l - pt > p.maxOffset) return `node ${id}'s clock l = ${s.hlc.l} is ${s.hlc.l - pt} ahead of its physical clock (max offset ${p.maxOffset})`;
    for (const [key, r] of s.ranges) {
      // Reads it served (each request's timestamp merged into its clock) and its values' local timestamps (its clock when written).
      const served = [r.tscache.ts, ...r.versions.map((v) => v.local), ...(r.intent ? [r.intent.local] : [])];
      const above = served.find((ts) => ts > now);
      if (above !== undefined) return `node ${id} served range ${key} at ${above}, above its own clock ${now}`;
    }
  }
  return null;
}

/** Committed transactions that wrote something: when they were called and returned, their keys and commit timestamp. */
function committedWriters(history: readonly HistoryEntry[]): { tag: string; call: number; ret: number; keys: number[]; ts: number }[] {
  const calls = new Map<string, { call: number; op: TxnOp }>();
  const out: { tag: string; call: number; ret: number; keys: number[]; ts: number }[] = [];
  history.forEach((e, i) => {
    const tag = `${e.client}.${e.id}`;
    if (e.kind === 'invoke') calls.set(tag, { call: i, op: e.op as TxnOp });
    else {
      const c = calls.get(tag);
      const r = e.result as TxnResult;
      if (c && r.status === 'committed' && writeKeys(c.op).length > 0) out.push({ tag, call: c.call, ret: i, keys: c.op.steps.map((s) => s.key), ts: r.commitTs });
    }
  });
  return out;
}

/** Pairs of committed writers on disjoint keys where the later one in real time has the smaller timestamp. */
export function causalReverses(history: readonly HistoryEntry[]): { first: string; second: string; ts: [number, number] }[] {
  const ws = committedWriters(history);
  const out: { first: string; second: string; ts: [number, number] }[] = [];
  for (const a of ws) for (const b of ws) if (a.ret < b.call && b.ts < a.ts && !a.keys.some((k) => b.keys.includes(k))) out.push({ first: a.tag, second: b.tag, ts: [a.ts, b.ts] });
  return out;
}

const unstamped = (h: readonly HistoryEntry[]): TransactionRecord[] => transactionsOf(h, { stamp: () => false });

/** CockroachDB's properties at params `p`. */
export function cockroachProperties(p: P, options: { hlcBound?: boolean } = {}): SpecProperty[] {
  const props: SpecProperty[] = [
    transactional('serializable', unstamped, { name: 'serializable (transaction checker)' }),
  ];
  for (let k = 0; k < p.keys; k++) {
    props.push(transactional('strict-serializable', (h) => keyProjection(unstamped(h), k), { name: `no stale read of key ${k}: its transactions are strictly serializable (transaction checker)` }));
  }
  props.push(
    invariant('atomicity: every version is its transaction\'s COMMITTED (or STAGING) record\'s, and no acknowledged commit has an ABORTED record', (w) => atomicityViolation(w) === null),
    invariant('HLC: a leaseholder\'s clock is at or above every read it served and every local timestamp of its values; l − pt ≤ maxOffset; c bounded', (w) => {
      const v = hlcViolation(w, p);
      return v === null || (options.hlcBound === false && v.includes('ahead of its physical clock'));
    }),
  );
  if (p.transfers) props.push(totalConserved(Array.from({ length: p.keys }, (_, k) => k), p.initial));
  return props;
}

/** Goals: the paths the properties judge are reachable (those the params make possible). */
export function cockroachGoals(p: P): SpecProperty[] {
  const goals: SpecProperty[] = [txnGoals.committed];
  const writers = p.writes || p.transfers || p.writeSkew || p.rmw || p.pairWrites;
  const txns = p.clients * p.opsPerClient;
  if (writers && txns >= 2) {
    goals.push(reachable('a request meets another transaction\'s intent and pushes it', (w) => w.any<Node>('node', (s) => [...s.ranges.values()].some((r) => r.pushing))));
  }
  if (p.writes && p.reads && txns >= 2) {
    goals.push(reachable('a read restarts on a value in its uncertainty interval', (w) => w.any<Node>('node', (s) => [...s.txns.values()].some((co) => co.restarts > 0))));
  }
  if (p.writes && p.keys >= 2 && p.clients >= 2) {
    goals.push(reachable('causal reverse: a write that starts after another (on other keys) returned commits at a smaller timestamp', (w) => causalReverses(w.history()).length > 0));
  }
  if (p.parallelCommits && writers) {
    goals.push(reachable('a transaction record is STAGING', (w) => [...recordsOf(w).values()].some((r) => r.status === 'STAGING')));
  }
  if (p.leaseTransfers > 0) goals.push(reachable('a lease moves', (w) => w.any<Node>('node', (s) => s.moved.size > 0)));
  return goals;
}
