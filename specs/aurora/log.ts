/**
 * Aurora's redo log as a segment holds it, and the quorum arithmetic over a protection group:
 * pure functions shared by the spec's handlers, its properties, the executor example and the
 * benchmark. Nothing here mutates its arguments.
 *
 * A record names the record before it in the protection group (its backlink: LSN and epoch). A
 * segment keeps the records it has received above its `base` (everything at or below `base` is
 * coalesced into its pages). A record is complete when its backlinks reach `base` without a gap;
 * the segment's head is its complete record of the highest (epoch, LSN), and its segment complete
 * LSN (SCL) is the head's LSN. The writer of a newer epoch starts its log with a record whose
 * backlink jumps over the truncated range (VDL, end]; a segment that stores it drops every record
 * of an older epoch above the backlink: that is the truncation.
 */
import { t, type NodeId } from '../core/index.ts';

/**
 * One redo record: its LSN; its backlink (`prev`, and `pe`, the epoch of that record); the volume
 * epoch of the writer that made it; the transaction whose mini-transaction (MTR) it belongs to;
 * whether it ends the MTR (a consistency point, CPL). An MTR's records have consecutive LSNs.
 */
export const Rec = t.struct({ lsn: t.u32, prev: t.u32, pe: t.u32, epoch: t.u32, txn: t.u32, cpl: t.bool });
export type Rec = typeof Rec.__type;

/** A position in the log: an LSN and the epoch of the record there. */
export interface Pos {
  readonly lsn: number;
  readonly epoch: number;
}

/**
 * A protection group's membership: `old` alone, or, while a segment is being replaced, `old` and
 * `neu` together (dual quorums: a write needs a write quorum of each, a read a read quorum of each).
 */
export const Config = t.struct({ old: t.set(t.node('storage')), neu: t.set(t.node('storage')) });
export type Config = typeof Config.__type;

/** Quorum sizes (of 6): Aurora's are 4 to write, 3 to read (AZ+1 tolerant). */
export interface Quorums {
  readonly write: number;
  readonly read: number;
}

/** What a segment's log is, for the computations below. */
export interface SegmentLog {
  readonly base: number;
  readonly baseEpoch: number;
  readonly log: readonly Rec[];
}

/** A map key for a position (epochs stay far below 2^20). */
export function key(lsn: number, epoch: number): number {
  return lsn * 1_048_576 + epoch;
}

/** The complete records of a segment, by position key (`base` included, as a pseudo-record). */
export function completeKeys(seg: SegmentLog): Set<number> {
  const done = new Set<number>([key(seg.base, seg.baseEpoch)]);
  // `log` is sorted by LSN and every backlink points lower, so one ascending pass suffices.
  for (const r of seg.log) if (r.lsn > seg.base && done.has(key(r.prev, r.pe))) done.add(key(r.lsn, r.epoch));
  return done;
}

/** The head: the complete record of the highest (epoch, LSN), or `base` when none is. */
export function head(seg: SegmentLog): Pos {
  const done = completeKeys(seg);
  let best: Pos = { lsn: seg.base, epoch: seg.baseEpoch };
  let found = false;
  for (const r of seg.log) {
    if (!done.has(key(r.lsn, r.epoch))) continue;
    if (!found || r.epoch > best.epoch || (r.epoch === best.epoch && r.lsn > best.lsn)) {
      best = { lsn: r.lsn, epoch: r.epoch };
      found = true;
    }
  }
  return best;
}

/** The segment complete LSN: the head's LSN. */
export function scl(seg: SegmentLog): number {
  return head(seg).lsn;
}

/** The records on the backlink chain ending at `top`, lowest first (down to `base`, exclusive). */
export function chain(seg: SegmentLog, top: Pos): Rec[] {
  const byKey = new Map<number, Rec>();
  for (const r of seg.log) byKey.set(key(r.lsn, r.epoch), r);
  const out: Rec[] = [];
  let at = top;
  while (at.lsn > seg.base) {
    const r = byKey.get(key(at.lsn, at.epoch));
    if (!r) break;
    out.push(r);
    at = { lsn: r.prev, epoch: r.pe };
  }
  return out.reverse();
}

/** The highest consistency point (end of an MTR, or `base`) on the chain ending at `top`. */
export function cplOnChain(seg: SegmentLog, top: Pos): Pos {
  const c = chain(seg, top);
  for (let i = c.length - 1; i >= 0; i--) if (c[i]!.cpl) return { lsn: c[i]!.lsn, epoch: c[i]!.epoch };
  return { lsn: seg.base, epoch: seg.baseEpoch };
}

/**
 * Whether segment `seg` holds position `p`: coalesced into its pages, or a complete record. For a
 * position at or below `base` this trusts that `p` was on the chain the segment coalesced, which
 * holds for acknowledged commits of a correct writer (coalescing folds durable CPLs only).
 */
export function holds(seg: SegmentLog, p: Pos): boolean {
  return p.lsn <= seg.base || completeKeys(seg).has(key(p.lsn, p.epoch));
}

/** The members of a configuration (both sets while changing), by id. */
export function members(c: Config): readonly NodeId[] {
  if (c.neu.length === 0) return c.old;
  return [...new Set<NodeId>([...c.old, ...c.neu])].sort((a, b) => a - b);
}

function countIn(set: readonly NodeId[], has: (n: NodeId) => boolean): number {
  let k = 0;
  for (const n of set) if (has(n)) k++;
  return k;
}

/** Whether the nodes `has` picks are a quorum of size `q` under `c` (of each set while changing). */
export function isQuorum(c: Config, has: (n: NodeId) => boolean, q: number): boolean {
  if (countIn(c.old, has) < q) return false;
  return c.neu.length === 0 || countIn(c.neu, has) >= q;
}

/**
 * The protection-group complete LSN: the highest LSN that a write quorum of segments (of each set
 * while changing) holds with no gap below it, from the SCLs they acknowledged.
 */
export function pgcl(c: Config, acks: ReadonlyMap<NodeId, number>, q: number): number {
  const values = [...new Set(acks.values())].sort((a, b) => b - a);
  for (const v of values) if (isQuorum(c, (n) => (acks.get(n) ?? -1) >= v, q)) return v;
  return 0;
}

/**
 * Whether a read quorum (size `q`, of each set while changing) can be made of nodes that `live`
 * accepts and `ok` rejects: a recovery could then read exactly those, and miss what `ok` wants.
 */
export function missableBy(c: Config, live: (n: NodeId) => boolean, ok: (n: NodeId) => boolean, q: number): boolean {
  return isQuorum(c, (n) => live(n) && !ok(n), q);
}

/**
 * A set of transaction ids as sorted, disjoint, non-adjacent inclusive ranges: a segment's pages
 * and a replica's database here. Clients number their transactions, so a few ranges hold them all.
 */
export const Txns = t.array(t.tuple(t.u32, t.u32));
export type Txns = typeof Txns.__type;

/** The set with `v` added (the same array when it is there already). */
export function addTxn(set: Txns, v: number): Txns {
  let i = 0;
  while (i < set.length && set[i]![1] < v - 1) i++;
  if (i === set.length) return [...set, [v, v]];
  const [lo, hi] = set[i]!;
  if (v >= lo && v <= hi) return set;
  if (v === hi + 1) {
    const next = set[i + 1];
    if (next && next[0] === v + 1) return [...set.slice(0, i), [lo, next[1]], ...set.slice(i + 2)];
    return [...set.slice(0, i), [lo, v], ...set.slice(i + 1)];
  }
  if (v === lo - 1) return [...set.slice(0, i), [v, hi], ...set.slice(i + 1)];
  return [...set.slice(0, i), [v, v], ...set.slice(i)];
}

/** Whether the set holds `v`. */
export function hasTxn(set: Txns, v: number): boolean {
  for (const [lo, hi] of set) if (v >= lo && v <= hi) return true;
  return false;
}

/** How many ids the set holds. */
export function txnCount(set: Txns): number {
  let n = 0;
  for (const [lo, hi] of set) n += hi - lo + 1;
  return n;
}

/** The subsets of `xs` with `k` elements, in lexicographic order. */
export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [first, ...rest] = xs;
  return [...subsets(rest, k - 1).map((r) => [first!, ...r]), ...subsets(rest, k)];
}
