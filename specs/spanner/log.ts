/**
 * A Spanner group's log, and what a replica derives from it.
 *
 * Every fact that must survive a leader crash or a leader change is a log record, logged through
 * a majority of the group before anyone acts on it (Spanner §4.2.1): a participant's **prepare**
 * record (its prepare timestamp and its buffered writes), a coordinator's **commit** record (the
 * commit timestamp, the coordinator group's writes, the participants to tell), an **outcome**
 * record (a participant's logged decision, or a coordinator's abort), and a **safe** record
 * (Spanner's MinNextTS promise, §4.2.4: no later write in the group gets a timestamp at or below
 * it). Everything else a replica keeps — the data, t_paxos_safe, the prepared-but-undecided
 * transactions, the write locks — is a pure function of its log and how much of it is applied,
 * so a leader that restarts or takes over rebuilds its 2PC state by reading its log.
 */
import { t } from '../core/index.ts';
import { TxnValue } from '../txn/index.ts';

/** A transaction's id: its client's tag `client.request` (the tag the transaction checker sees on its writes). */
export const TxnId = t.string;
export type TxnId = string;

/** One buffered write: a key and the version installed (tagged with the transaction). */
export const Write = t.struct({ key: t.u32, value: TxnValue });
export type Write = typeof Write.__type;

/** A log record. */
export const Entry = t.union('kind', {
  /** A participant prepared `txn` at `ts` with these writes; `coordAt` is where its vote goes (the coordinator leader). */
  prepare: { txn: TxnId, ts: t.u32, writes: t.array(Write), coord: t.u32, coordAt: t.node('replica') },
  /** The coordinator committed `txn` at `ts`: its own group's writes; the participants' voters to tell; the frontend to answer. */
  commit: { txn: TxnId, ts: t.u32, writes: t.array(Write), participants: t.array(t.node('replica')), fe: t.node('frontend') },
  /** A participant's logged decision (commit at `ts`, or abort), or a coordinator's abort record (`ts` 0). */
  outcome: { txn: TxnId, commit: t.bool, ts: t.u32 },
  /** A safe-time promise: no later write of the group gets a timestamp at or below `ts`. */
  safe: { ts: t.u32 },
});
export type Entry = typeof Entry.__type;

export type Log = readonly Entry[];

/** The timestamp a record assigns (0: none, an abort). */
export function entryTs(e: Entry): number {
  switch (e.kind) {
    case 'prepare':
    case 'commit':
    case 'safe':
      return e.ts;
    case 'outcome':
      return e.commit ? e.ts : 0;
  }
}

/** The largest timestamp the group has assigned: every new prepare or commit timestamp must exceed it. */
export function maxTs(log: Log): number {
  let m = 0;
  for (const e of log) {
    const ts = entryTs(e);
    if (ts > m) m = ts;
  }
  return m;
}

/** The records of `txn` in `log` (prepare, coordinator commit, outcome), each null when absent. */
export function recordsOf(log: Log, txn: TxnId): {
  prepare: Extract<Entry, { kind: 'prepare' }> | null;
  commit: Extract<Entry, { kind: 'commit' }> | null;
  outcome: Extract<Entry, { kind: 'outcome' }> | null;
  /** Index of the outcome (or coordinator commit) record, -1 when there is none. */
  decidedAt: number;
} {
  let prepare: Extract<Entry, { kind: 'prepare' }> | null = null;
  let commit: Extract<Entry, { kind: 'commit' }> | null = null;
  let outcome: Extract<Entry, { kind: 'outcome' }> | null = null;
  let decidedAt = -1;
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if (e.kind === 'safe' || e.txn !== txn) continue;
    if (e.kind === 'prepare') prepare = e;
    else if (e.kind === 'commit') (commit = e), (decidedAt = i);
    else (outcome = e), (decidedAt = i);
  }
  return { prepare, commit, outcome, decidedAt };
}

/** A committed version of a key: its commit timestamp and value. */
export interface Version {
  readonly ts: number;
  readonly value: TxnValue;
}

/** What the applied prefix of a log says. */
export interface Applied {
  /** Per key, the committed versions, in ascending timestamp order. */
  readonly versions: ReadonlyMap<number, readonly Version[]>;
  /** t_paxos_safe: the largest timestamp of an applied record. */
  readonly paxosSafe: number;
  /** The prepared-but-undecided transactions (prepare applied, no outcome applied), with their prepare timestamps. */
  readonly prepared: ReadonlyMap<TxnId, number>;
}

/** Replays `log[0 .. upTo)`. */
export function appliedView(log: Log, upTo: number): Applied {
  const versions = new Map<number, Version[]>();
  const prepared = new Map<TxnId, number>();
  const preparedWrites = new Map<TxnId, readonly Write[]>();
  let paxosSafe = 0;
  const install = (writes: readonly Write[], ts: number): void => {
    for (const w of writes) {
      const list = versions.get(w.key) ?? [];
      let i = list.length;
      while (i > 0 && list[i - 1]!.ts > ts) i--;
      list.splice(i, 0, { ts, value: w.value });
      versions.set(w.key, list);
    }
  };
  for (let i = 0; i < upTo && i < log.length; i++) {
    const e = log[i]!;
    const ts = entryTs(e);
    if (ts > paxosSafe) paxosSafe = ts;
    switch (e.kind) {
      case 'prepare':
        prepared.set(e.txn, e.ts);
        preparedWrites.set(e.txn, e.writes);
        break;
      case 'commit':
        install(e.writes, e.ts);
        break;
      case 'outcome':
        if (e.commit) install(preparedWrites.get(e.txn) ?? [], e.ts);
        prepared.delete(e.txn);
        break;
      case 'safe':
        break;
    }
  }
  return { versions, paxosSafe, prepared };
}

/** The version of `key` a read at `ts` sees (the latest at or below it), or null (never written). */
export function versionAt(applied: Applied, key: number, ts = Number.POSITIVE_INFINITY): TxnValue | null {
  const list = applied.versions.get(key);
  if (!list) return null;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.ts <= ts) return list[i]!.value;
  return null;
}

/** The smallest prepare timestamp of a prepared-but-undecided transaction (+∞ when none). */
export function minPrepared(applied: Applied): number {
  let m = Number.POSITIVE_INFINITY;
  for (const ts of applied.prepared.values()) if (ts < m) m = ts;
  return m;
}

/**
 * The write locks a leader's log implies: per key, the transaction that holds it — a prepared
 * transaction until its outcome is applied, a coordinator's commit record until it is applied
 * (commit wait holds the locks, §4.2.1).
 */
export function logWriters(log: Log, applied: number): Map<number, TxnId> {
  const out = new Map<number, TxnId>();
  const decided = new Set<TxnId>();
  for (let i = 0; i < applied && i < log.length; i++) {
    const e = log[i]!;
    if (e.kind === 'outcome' || e.kind === 'commit') decided.add(e.txn);
  }
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if (e.kind === 'prepare' && !decided.has(e.txn)) for (const w of e.writes) out.set(w.key, e.txn);
    if (e.kind === 'commit' && i >= applied) for (const w of e.writes) out.set(w.key, e.txn);
  }
  return out;
}
