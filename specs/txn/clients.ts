/**
 * Transaction clients: what the world's clients send and what they get back.
 *
 * One client request is one whole transaction (see README.md for why): a list of steps in
 * program order — read a key, write a key, or add to a key (read it, then write the value read
 * plus a delta: the bank transfer's step) — answered once, with the outcome (committed, aborted,
 * or unknown), the start and commit timestamps, and the version each read saw.
 *
 * Written values are unique by construction: a version is tagged with the client and the
 * request id of the transaction that wrote it (a client writes a key at most once per
 * transaction), so a read names the write it saw, as the transaction checker needs. The version
 * also carries a number `n` (a balance), which the tag does not depend on.
 */
import { t, type ClientsDef, type Params, type Request } from '../core/index.ts';

/** One step of a transaction. */
export const TxnStep = t.union('f', {
  /** Read the key. */
  r: { key: t.u32 },
  /** Write `n` to the key (a new version, tagged with the transaction). */
  w: { key: t.u32, n: t.int },
  /** Read the key, then write the read `n` plus `by` (a key never written reads as the initial `n`). */
  add: { key: t.u32, by: t.int },
});
export type TxnStep = typeof TxnStep.__type;

/** A transaction: its steps in program order. Each key is written at most once. */
export const TxnOp = t.struct({ steps: t.array(TxnStep) });
export type TxnOp = typeof TxnOp.__type;

/** A version's value: the transaction that wrote it (client and request id) and its number. */
export const TxnValue = t.struct({ client: t.node('client'), id: t.u32, n: t.int });
export type TxnValue = typeof TxnValue.__type;

/** How a transaction ended, as the client learned it. */
export const TxnStatus = t.enum('committed', 'aborted', 'unknown');
export type TxnStatus = typeof TxnStatus.__type;

/**
 * The answer to a transaction: its outcome, its start timestamp and commit timestamp (the start
 * timestamp for a read-only transaction; 0 when aborted), and per read step (`r` or `add`, in
 * order) the version it saw (null: the key had never been written at the snapshot).
 */
export const TxnResult = t.struct({
  status: TxnStatus,
  startTs: t.u32,
  commitTs: t.u32,
  reads: t.array(t.option(TxnValue)),
});
export type TxnResult = typeof TxnResult.__type;

/** The tag a version written by client request `req` carries, with number `n`. */
export function valueOf(req: { readonly client: number; readonly id: number }, n: number): TxnValue {
  return { client: req.client, id: req.id, n };
}

/** A version's tag as the transaction checker sees it: unique per writing transaction. */
export function tagOf(v: { readonly client: number; readonly id: number }): string {
  return `${v.client}.${v.id}`;
}

/** The keys a transaction reads (steps `r` and `add`), in order. */
export function readKeys(op: TxnOp): number[] {
  const out: number[] = [];
  for (const s of op.steps) if (s.f !== 'w') out.push(s.key);
  return out;
}

/** The keys a transaction writes (steps `w` and `add`), in order. */
export function writeKeys(op: TxnOp): number[] {
  const out: number[] = [];
  for (const s of op.steps) if (s.f !== 'r') out.push(s.key);
  return out;
}

/** The number a key holds given the version read (`initial` when none). */
export function numberOf(v: TxnValue | null, initial: number): number {
  return v === null ? initial : v.n;
}

/**
 * What a transaction writes, given what its reads saw (in the order of {@link readKeys}): per
 * written key, the version to install, tagged with the request.
 */
export function writesOf(req: Request<TxnOp>, reads: readonly (TxnValue | null)[], initial: number): Map<number, TxnValue> {
  const out = new Map<number, TxnValue>();
  let r = 0;
  for (const s of req.op.steps) {
    if (s.f === 'r') r++;
    else if (s.f === 'w') out.set(s.key, valueOf(req, s.n));
    else out.set(s.key, valueOf(req, numberOf(reads[r++] ?? null, initial) + s.by));
  }
  return out;
}

/** Builders for transactions, for a spec's `ops(params)`. */
export const txn = {
  /** A transaction of the given steps. */
  of: (...steps: TxnStep[]): TxnOp => ({ steps }),
  /** Reads every key given. */
  read: (...keys: number[]): TxnOp => ({ steps: keys.map((key) => ({ f: 'r' as const, key })) }),
  /** Writes `n` to every key given. */
  write: (n: number, ...keys: number[]): TxnOp => ({ steps: keys.map((key) => ({ f: 'w' as const, key, n })) }),
  /** The bank transfer: move `amount` from key `from` to key `to` (read both, write both). */
  transfer: (from: number, to: number, amount: number): TxnOp => ({
    steps: [{ f: 'add', key: from, by: -amount }, { f: 'add', key: to, by: amount }],
  }),
};

/**
 * The clients of a transactional protocol: `count` clients, each issuing up to `perClient`
 * transactions one at a time, each one of `ops(params)`, to a node of role `target`.
 */
export function txnClients<P extends Params>(def: {
  count: number | ((p: P) => number);
  target: string;
  ops: (p: P) => readonly TxnOp[];
  perClient: number | ((p: P) => number);
}): ClientsDef<TxnOp, TxnResult, P> {
  return {
    count: def.count as ClientsDef<TxnOp, TxnResult, P>['count'],
    target: def.target,
    op: TxnOp,
    result: TxnResult,
    ops: def.ops,
    opsPerClient: def.perClient as ClientsDef<TxnOp, TxnResult, P>['opsPerClient'],
  };
}
