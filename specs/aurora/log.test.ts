/**
 * The log and quorum arithmetic of specs/aurora/log.ts: chains over backlinks (with epochs), the
 * head and SCL of a segment with holes and stale branches, consistency points, transaction-id
 * ranges, PGCL and read-quorum coverage under single and dual (membership change) configurations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addTxn, chain, cplOnChain, hasTxn, head, holds, isQuorum, members, missableBy, pgcl, scl, subsets, txnCount,
  type Config, type Rec, type Txns,
} from './log.ts';

const rec = (lsn: number, prev: number, epoch: number, cpl: boolean, pe = epoch): Rec => ({ lsn, prev, pe, epoch, txn: lsn, cpl });

describe('segment logs', () => {
  it('the SCL stops at the first hole; records above it are not on the chain', () => {
    const seg = { base: 0, baseEpoch: 0, log: [rec(1, 0, 1, false, 0), rec(2, 1, 1, true), rec(4, 3, 1, true)] };
    expect(scl(seg)).toBe(2);
    expect(chain(seg, head(seg)).map((r) => r.lsn)).toEqual([1, 2]);
    expect(holds(seg, { lsn: 2, epoch: 1 })).toBe(true);
    expect(holds(seg, { lsn: 4, epoch: 1 })).toBe(false);
  });

  it('a newer epoch\'s branch is the head even at a lower LSN; a backlink names the epoch of its target', () => {
    // Epoch 1 wrote 1..3; epoch 2 recovered VDL 1 and continued at 9 (backlink 1, epoch 1).
    const seg = { base: 0, baseEpoch: 0, log: [rec(1, 0, 1, true, 0), rec(2, 1, 1, false), rec(3, 2, 1, true), rec(9, 1, 2, true, 1)] };
    expect(head(seg)).toEqual({ lsn: 9, epoch: 2 });
    expect(chain(seg, head(seg)).map((r) => r.lsn)).toEqual([1, 9]);
    // A record whose backlink names a record of another epoch at that LSN does not attach.
    const wrong = { base: 0, baseEpoch: 0, log: [rec(1, 0, 1, true, 0), rec(2, 1, 2, true, 2)] };
    expect(scl(wrong)).toBe(1);
  });

  it('the CPL on a chain is its last MTR end, or the base', () => {
    const seg = { base: 4, baseEpoch: 1, log: [rec(5, 4, 1, false), rec(6, 5, 1, true), rec(7, 6, 1, false)] };
    expect(cplOnChain(seg, head(seg))).toEqual({ lsn: 6, epoch: 1 });
    expect(cplOnChain(seg, { lsn: 5, epoch: 1 })).toEqual({ lsn: 4, epoch: 1 });
    expect(holds(seg, { lsn: 3, epoch: 1 })).toBe(true); // coalesced
  });
});

describe('transaction-id ranges', () => {
  it('add and has agree with a set, and the ranges stay sorted, disjoint and non-adjacent', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), (vs) => {
      let set: Txns = [];
      for (const v of vs) set = addTxn(set, v);
      const ref = new Set(vs);
      for (let v = 0; v <= 41; v++) if (hasTxn(set, v) !== ref.has(v)) return false;
      for (let i = 0; i + 1 < set.length; i++) if (set[i]![1] + 1 >= set[i + 1]![0]) return false;
      return txnCount(set) === ref.size;
    }));
  });

  it('adding a present id returns the same array', () => {
    const set: Txns = [[1, 3]];
    expect(addTxn(set, 2)).toBe(set);
  });
});

describe('quorums', () => {
  const six = [1, 2, 3, 4, 5, 6];
  const single: Config = { old: six, neu: [] };
  const dual: Config = { old: six, neu: [2, 3, 4, 5, 6, 7] };

  it('every read quorum (3) meets every write quorum (4) of six, and 3 + 3 or 2 + 4 do not always meet', () => {
    const meets = (r: number, w: number): boolean =>
      subsets(six, r).every((a) => subsets(six, w).every((b) => a.some((x) => b.includes(x))));
    expect(meets(3, 4)).toBe(true);
    expect(meets(3, 3)).toBe(false);
    expect(meets(2, 4)).toBe(false);
  });

  it('under dual quorums a quorum needs enough of each set; read and write quorums still meet across the change', () => {
    expect(members(dual)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(isQuorum(dual, (n) => [2, 3, 4, 5].includes(n), 4)).toBe(true);
    expect(isQuorum(dual, (n) => [1, 2, 3, 7].includes(n), 4)).toBe(false); // 3 of the new set
    const all = members(dual);
    const writes = [...subsets(all, 4), ...subsets(all, 5), ...subsets(all, 6)].filter((w) => isQuorum(dual, (n) => w.includes(n), 4));
    const reads = [...subsets(all, 3), ...subsets(all, 4)].filter((r) => isQuorum(dual, (n) => r.includes(n), 3));
    // A write quorum of the old set alone (before the change) meets every dual read quorum too.
    const oldWrites = subsets(six, 4);
    for (const r of reads) for (const w of [...writes, ...oldWrites]) expect(r.some((x) => w.includes(x))).toBe(true);
    // The new set alone has a read quorum, {5, 6, 7}, that misses a write on {1, 2, 3, 4} of the old set.
    const neuOnly: Config = { old: [2, 3, 4, 5, 6, 7], neu: [] };
    expect(missableBy(neuOnly, () => true, (n) => [1, 2, 3, 4].includes(n), 3)).toBe(true);
    expect(missableBy(dual, () => true, (n) => [1, 2, 3, 4].includes(n), 3)).toBe(false);
  });

  it('PGCL is the highest LSN a write quorum of SCLs reaches', () => {
    const acks = new Map([[1, 9], [2, 7], [3, 7], [4, 5], [5, 2]]);
    expect(pgcl(single, acks, 4)).toBe(5);
    expect(pgcl(single, acks, 3)).toBe(7);
    expect(pgcl(dual, new Map([[1, 9], [2, 9], [3, 9], [4, 9], [7, 0]]), 4)).toBe(0); // only 3 of the new set
  });

  it('a read quorum of survivors that misses a commit: only when the commit is on fewer than 4', () => {
    const live = (n: number): boolean => n !== 1 && n !== 2 && n !== 3; // AZ1 and one more lost
    expect(missableBy(single, live, (n) => [1, 2, 3, 4].includes(n), 3)).toBe(false);
    expect(missableBy(single, () => true, (n) => [1, 2, 3].includes(n), 3)).toBe(true);
  });
});
