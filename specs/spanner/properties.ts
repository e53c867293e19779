/**
 * What Spanner promises, as properties of the model's worlds.
 *
 * - **External consistency** (§4.1.2): the transaction checker's `external-consistency` model on
 *   the read-write and strong read-only transactions — strict serializability (real-time edges
 *   from the history's order, which is real-time order), and the read-write transactions' commit
 *   timestamps in an order that agrees with it. Read-only transactions carry no timestamp there:
 *   Spanner orders a read-only transaction by its read timestamp only against the writes it
 *   could see, and with clocks that drift within ε a read may return before true time reaches
 *   s_read, so a later write elsewhere can get a smaller timestamp without any anomaly.
 *   Snapshot reads at a past timestamp are not real-time ordered by design; they are held to
 *   the next two properties.
 * - **Serializability** of every transaction, snapshot reads included.
 * - **Every read sees the latest version committed at its timestamp** — at or below s_read for a
 *   read-only transaction, below s for a read-write one (its locks hold from the read to the
 *   commit) — judged against every commit logged anywhere, so a read that missed a transaction
 *   committing below its timestamp fails as soon as that commit is logged (the `t_safe` bugs), and
 *   a read that saw a partial commit, or a stale read under lost locks, fails at once.
 * - **Commit timestamps respect real time**, Spanner's own statement: a read-write transaction that
 *   starts after another returned has a larger commit timestamp.
 * - **Atomic commit across groups**: no transaction commits in one group and aborts in another,
 *   every group commits it at the same timestamp, and a commit follows every participant's
 *   prepare at a timestamp no smaller than each prepare timestamp.
 * - **Read-only transactions never block writes**: they hold no locks.
 * - **Group logs agree** on every logged record (a leader change preserves the log).
 * - The bank's total: every snapshot of all accounts sums to the initial total (no partial commit).
 */
import {
  equalValues, invariant, reachable, transactional,
  type HistoryEntry, type NodeId, type SpecProperty, type WorldReader,
} from '../core/index.ts';
import { completed, tagOf, totalConserved, transactionsOf, type TxnOp, type TxnResult, type TxnValue } from '../txn/index.ts';
import { recordsOf, type Entry, type Log, type TxnId } from './log.ts';
import type { Frontend, P, Replica, SpannerOp } from './spanner.ts';

/** Every transaction committed in some group's logged prefix: its commit timestamp and writes. */
export function commitsOf(w: WorldReader): Map<TxnId, { ts: number; writes: Map<number, TxnValue> }> {
  const writes = new Map<TxnId, Map<number, TxnValue>>();
  const ts = new Map<TxnId, number>();
  const note = (txn: TxnId, ws: readonly { key: number; value: TxnValue }[]): void => {
    const m = writes.get(txn) ?? new Map<number, TxnValue>();
    for (const x of ws) m.set(x.key, x.value);
    writes.set(txn, m);
  };
  for (const s of w.states<Replica>('replica')) {
    s.log.forEach((e, i) => {
      if (e.kind === 'prepare') note(e.txn, e.writes);
      if (e.kind === 'commit') {
        note(e.txn, e.writes);
        if (i < s.chosen) ts.set(e.txn, e.ts);
      }
      if (e.kind === 'outcome' && e.commit && i < s.chosen) ts.set(e.txn, e.ts);
    });
  }
  const out = new Map<TxnId, { ts: number; writes: Map<number, TxnValue> }>();
  for (const [txn, at] of ts) out.set(txn, { ts: at, writes: writes.get(txn) ?? new Map() });
  return out;
}

const sameVersion = (a: TxnValue | null, b: TxnValue | null): boolean => (a === null || b === null ? a === b : tagOf(a) === tagOf(b));

/**
 * The reads that saw something other than the latest committed version at their timestamp: at or
 * below s_read for a read-only transaction, below s for a read-write one (its read locks hold from
 * the read to the commit, so it reads as of its commit timestamp).
 */
export function inexactReads(w: WorldReader): { txn: string; key: number; ts: number; saw: string; expected: string }[] {
  // Completed transactions, and read-write transactions whose commit is logged but not yet answered.
  const reads: { txn: string; at: number; seen: [number, TxnValue | null][] }[] = [];
  for (const d of completedReads(w.history())) {
    const at = (d.op as SpannerOp).mode === 'rw' ? d.result.commitTs - 1 : d.result.commitTs;
    const seen: [number, TxnValue | null][] = [];
    let r = 0;
    for (const step of d.op.steps) if (step.f !== 'w') seen.push([step.key, d.result.reads[r++] ?? null]);
    reads.push({ txn: tagOf(d), at, seen });
  }
  let commits: ReturnType<typeof commitsOf> | undefined;
  for (const fe of w.states<Frontend>('frontend')) {
    for (const [txn, tx] of fe.txns) {
      if (tx.phase !== 'committing' || tx.reads.size === 0) continue;
      commits ??= commitsOf(w);
      const c = commits.get(txn);
      if (c) reads.push({ txn, at: c.ts - 1, seen: [...tx.reads] });
    }
  }
  if (reads.length === 0) return [];
  commits ??= commitsOf(w);
  const out: { txn: string; key: number; ts: number; saw: string; expected: string }[] = [];
  for (const { txn, at, seen } of reads) {
    for (const [key, saw] of seen) {
      let best: { ts: number; value: TxnValue } | null = null;
      for (const c of commits.values()) {
        const v = c.writes.get(key);
        if (v && c.ts <= at && (best === null || c.ts > best.ts)) best = { ts: c.ts, value: v };
      }
      const expected = best?.value ?? null;
      if (!sameVersion(saw, expected)) out.push({ txn, key, ts: at, saw: saw ? tagOf(saw) : 'nil', expected: expected ? tagOf(expected) : 'nil' });
    }
  }
  return out;
}

/** A small memo of history-only computations, keyed by the history's JSON (many states share one history). */
function byHistory<T>(compute: (h: readonly HistoryEntry[]) => T, limit = 10_000): (h: readonly HistoryEntry[]) => T {
  const memo = new Map<string, T>();
  return (h) => {
    const key = JSON.stringify(h);
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const value = compute(h);
    if (memo.size >= limit) memo.delete(memo.keys().next().value!);
    memo.set(key, value);
    return value;
  };
}

/** Pairs of committed read-write transactions where the later one (in real time) has a commit timestamp no larger. */
export function timestampInversions(history: readonly HistoryEntry[]): { first: string; second: string; ts: [number, number] }[] {
  const rw: { tag: string; call: number; ret: number; ts: number }[] = [];
  const calls = new Map<string, { call: number; op: SpannerOp }>();
  history.forEach((e, i) => {
    const key = `${e.client}.${e.id}`;
    if (e.kind === 'invoke') calls.set(key, { call: i, op: e.op as SpannerOp });
    else {
      const c = calls.get(key);
      const r = e.result as TxnResult;
      if (c && c.op.mode === 'rw' && r.status === 'committed') rw.push({ tag: key, call: c.call, ret: i, ts: r.commitTs });
    }
  });
  const out: { first: string; second: string; ts: [number, number] }[] = [];
  for (const a of rw) for (const b of rw) if (a.ret < b.call && !(a.ts < b.ts)) out.push({ first: a.tag, second: b.tag, ts: [a.ts, b.ts] });
  return out;
}

/** What breaks atomic commit across groups, if anything. */
export function atomicityViolation(w: WorldReader, p: P): string | null {
  const logged: { group: number; log: Log }[] = [];
  const ids = w.nodes('replica');
  ids.forEach((id, i) => {
    const s = w.node<Replica>(id);
    logged.push({ group: Math.floor(i / p.replicas), log: s.log.slice(0, s.chosen) });
  });
  const fate = new Map<TxnId, { commits: Set<number>; aborted: boolean }>();
  const prepares = new Map<string, number>(); // `${txn}@${group}` → prepare ts
  for (const { group, log } of logged) {
    for (const e of log) {
      if (e.kind === 'safe') continue;
      if (e.kind === 'prepare') {
        prepares.set(`${e.txn}@${group}`, e.ts);
        continue;
      }
      const f = fate.get(e.txn) ?? { commits: new Set<number>(), aborted: false };
      if (e.kind === 'commit' || e.commit) f.commits.add(e.ts);
      else f.aborted = true;
      fate.set(e.txn, f);
    }
  }
  for (const [txn, f] of fate) {
    if (f.commits.size > 0 && f.aborted) return `${txn} committed in one group and aborted in another`;
    if (f.commits.size > 1) return `${txn} committed at different timestamps: ${[...f.commits].join(', ')}`;
  }
  for (const { log } of logged) {
    for (const e of log) {
      if (e.kind !== 'commit') continue;
      for (const at of e.participants) {
        const g = Math.floor((at - ids[0]!) / p.replicas);
        const ts = prepares.get(`${e.txn}@${g}`);
        if (ts === undefined) return `${e.txn} committed before group ${g} logged its prepare`;
        if (ts > e.ts) return `${e.txn} committed at ${e.ts}, below group ${g}'s prepare timestamp ${ts}`;
      }
    }
  }
  return null;
}

const readOnlyTxns = byHistory((h) => {
  const out = new Set<string>();
  for (const e of h) if (e.kind === 'invoke' && (e.op as SpannerOp).mode !== 'rw') out.add(`${e.client}.${e.id}`);
  return out;
});

const completedReads = byHistory((h) => completed(h).filter((d) => d.result.status === 'committed' && d.result.reads.length > 0));

const inversions = byHistory((h) => timestampInversions(h).length);

/** Whether some lock is held by a read-only transaction. */
function readOnlyHoldsLock(w: WorldReader): boolean {
  const readOnly = readOnlyTxns(w.history());
  if (readOnly.size === 0) return false;
  for (const s of w.states<Replica>('replica')) {
    for (const holders of s.locks.values()) if (holders.some((h) => readOnly.has(h))) return true;
    for (const e of s.log) if (e.kind === 'prepare' && readOnly.has(e.txn)) return true;
  }
  return false;
}

/** Whether two replicas of a group disagree on a record both hold in their logged prefixes. */
function groupLogsDisagree(w: WorldReader, p: P): boolean {
  const states = w.states<Replica>('replica');
  for (let g = 0; g < p.groups; g++) {
    const members = states.slice(g * p.replicas, (g + 1) * p.replicas);
    for (const a of members) {
      for (const b of members) {
        if (a === b) continue;
        const n = Math.min(a.chosen, b.log.length);
        if (a.log === b.log) continue;
        for (let i = 0; i < n; i++) if (!equalValues(a.log[i] as Entry, b.log[i] as Entry)) return true;
      }
    }
  }
  return false;
}

const isRw = (op: TxnOp): boolean => (op as SpannerOp).mode === 'rw';
const notSnapshot = (op: TxnOp): boolean => (op as SpannerOp).mode !== 'snapshot';

/** Spanner's properties at params `p`. */
export function spannerProperties(p: P): SpecProperty[] {
  const props: SpecProperty[] = [
    invariant('every read sees the latest version committed at its timestamp (read-only: at or below s_read; read-write: below s)', (w) => inexactReads(w).length === 0),
    invariant('external consistency: a transaction that starts after another returned commits at a larger timestamp', (w) => inversions(w.history()) === 0),
    transactional('external-consistency', (h) => transactionsOf(h, { keep: notSnapshot, stamp: isRw }), {
      name: 'external consistency (transaction checker: strictly serializable, commit timestamps in real-time order)',
    }),
    transactional('serializable', (h) => transactionsOf(h, { stamp: () => false }), { name: 'serializable (transaction checker, snapshot reads included)' }),
    invariant('atomic commit across groups', (w) => atomicityViolation(w, p) === null),
    invariant('read-only transactions take no locks (they never block writes)', (w) => !readOnlyHoldsLock(w)),
    invariant('the replicas of a group agree on every logged record', (w) => !groupLogsDisagree(w, p)),
  ];
  if (p.transfers) props.push(totalConserved(Array.from({ length: p.keys }, (_, k) => k), p.initial));
  return props;
}

const committedAs = (w: WorldReader, test: (op: SpannerOp, r: TxnResult) => boolean): boolean =>
  completed(w.history()).some((d) => d.result.status === 'committed' && test(d.op as SpannerOp, d.result));

/** Goals: the paths the properties are meant to judge are reachable (those the params make possible). */
export function spannerGoals(p: P): SpecProperty[] {
  const writes = p.transfers || p.writes;
  const goals: SpecProperty[] = [];
  if (writes) {
    goals.push(
      reachable('a read-write transaction commits', (w) => committedAs(w, (op) => op.mode === 'rw')),
      reachable('a commit record waits for TT.after(s) (commit wait)', (w) =>
        w.any<Replica>('replica', (s) => s.role === 'leader' && s.applied < s.chosen && s.log[s.applied]!.kind === 'commit')),
    );
  }
  if (p.strongReads) goals.push(reachable('a read waits for t_safe', (w) => w.any<Replica>('replica', (s) => s.waits.length > 0)));
  if (p.strongReads && writes && p.clients * p.opsPerClient >= 2) {
    goals.push(reachable('a strong read sees a committed write', (w) => committedAs(w, (op, r) => op.mode === 'strong' && r.reads.some((v) => v !== null))));
  }
  if (p.snapshotReads) goals.push(reachable('a snapshot read is served', (w) => committedAs(w, (op) => op.mode === 'snapshot')));
  if (p.transfers && p.clients >= 2) goals.push(reachable('a transaction aborts', (w) => completed(w.history()).some((d) => d.result.status === 'aborted')));
  if (p.maxEpoch > 0) goals.push(reachable('a group changes leader', (w) => w.any<Replica>('replica', (s) => s.role === 'leader' && s.epoch > 0)));
  return goals;
}

export type { Frontend, NodeId };
