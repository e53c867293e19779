/**
 * Spanner: the log's derived views, the properties' helpers on hand-made histories, pinned state
 * counts of the correct spec under each kind of fault (small bounds: the default bounds take
 * minutes and are pinned behind PACTA_LONG=1), and each broken variant caught by the property
 * that stands for its bug. (tests/variants-caught.test.ts also runs every variant's bare check.)
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../../checker/index.ts';
import type { HistoryEntry } from '../core/index.ts';
import spanner, { spannerOps, type SpannerOp } from './spanner.ts';
import { appliedView, logWriters, maxTs, minPrepared, recordsOf, versionAt, type Entry } from './log.ts';
import { timestampInversions } from './properties.ts';

const v = (client: number, id: number, n = 10) => ({ client, id, n });

describe('the log', () => {
  const log: Entry[] = [
    { kind: 'prepare', txn: '5.0', ts: 1, writes: [{ key: 1, value: v(5, 0) }], coord: 0, coordAt: 0 },
    { kind: 'safe', ts: 4 },
    { kind: 'commit', txn: '6.0', ts: 3, writes: [{ key: 3, value: v(6, 0) }], participants: [], fe: 9 },
    { kind: 'outcome', txn: '5.0', commit: true, ts: 5 },
  ];

  it('derives data, t_paxos_safe and the prepared transactions from the applied prefix', () => {
    const two = appliedView(log, 2);
    expect([two.paxosSafe, minPrepared(two), versionAt(two, 1)]).toEqual([4, 1, null]);
    const all = appliedView(log, 4);
    expect([all.paxosSafe, minPrepared(all)]).toEqual([5, Number.POSITIVE_INFINITY]);
    expect(versionAt(all, 1)).toEqual(v(5, 0));
    expect(versionAt(all, 1, 4)).toBeNull(); // committed at 5
    expect(versionAt(all, 3, 3)).toEqual(v(6, 0));
    expect(maxTs(log)).toBe(5);
    expect(recordsOf(log, '5.0').decidedAt).toBe(3);
  });

  it('holds write locks until the outcome (or the commit record) is applied', () => {
    expect([...logWriters(log, 2)]).toEqual([[1, '5.0'], [3, '6.0']]);
    expect([...logWriters(log, 3)]).toEqual([[1, '5.0']]);
    expect([...logWriters(log, 4)]).toEqual([]);
  });
});

describe('the properties', () => {
  const rw: SpannerOp = { steps: [{ f: 'w', key: 0, n: 1 }], mode: 'rw' };
  const done = (client: number, commitTs: number): HistoryEntry => ({ kind: 'return', client, id: 0, result: { status: 'committed', startTs: 0, commitTs, reads: [] } });

  it('sees a read-write transaction that started after another returned commit at a timestamp no larger', () => {
    const h: HistoryEntry[] = [{ kind: 'invoke', client: 4, id: 0, op: rw }, done(4, 3), { kind: 'invoke', client: 5, id: 0, op: rw }, done(5, 3)];
    expect(timestampInversions(h)).toEqual([{ first: '4.0', second: '5.0', ts: [3, 3] }]);
    // concurrent: no real-time order, no promise
    expect(timestampInversions([h[0]!, h[2]!, h[1]!, h[3]!])).toEqual([]);
  });

  it('offers the clients the workload the params ask for', () => {
    expect(spannerOps({ ...spanner.params, writes: true, snapshotReads: true } as never).map((o) => o.mode)).toEqual(['rw', 'rw', 'rw', 'strong', 'snapshot']);
  });
});

/** Checks the correct spec; returns the distinct states, and asserts every goal was reached. */
function passes(options: CheckOptions): number {
  const r = checkSync(spanner, options);
  expect(r.result === 'violation' ? `${r.result}: ${r.property.name}` : r.result).toBe('ok');
  return r.stats.distinctStates;
}

describe('the correct protocol (pinned state counts; bag network, ε = 1, 4 ticks unless said)', () => {
  it('a transfer across groups then a strong read, groups of 2 replicas', () => {
    expect(passes({ params: { clients: 1, opsPerClient: 2 } })).toBe(1_882);
  });

  it('with message loss', () => {
    expect(passes({ params: { clients: 1, opsPerClient: 2 }, drop: true })).toBe(5_396);
  });

  it('with clocks that drift within ε (two writes in two groups, 3 ticks)', () => {
    expect(passes({ params: { clients: 1, opsPerClient: 2, transfers: false, writes: true, strongReads: false, replicas: 1 }, clockError: 1, maxTime: 3 })).toBe(3_588);
  });

  it('with a crash: a leader recovers its 2PC state from its log', () => {
    expect(passes({ params: { clients: 1, opsPerClient: 1 }, crashes: 1 })).toBe(7_261);
  });

  it('with a leader change, and with a leader change and a crash (one group)', () => {
    const g1 = { groups: 1, keys: 1, transfers: false, writes: true, clients: 1, maxEpoch: 1 };
    expect(passes({ params: { ...g1, opsPerClient: 2 } })).toBe(4_899);
    expect(passes({ params: g1, crashes: 1 })).toBe(13_739);
  });

  it('with reads at a follower: strong reads (the follower asks its leader for safe time) and snapshot reads at a past timestamp', () => {
    const g1 = { groups: 1, keys: 1, transfers: false, writes: true, clients: 1, opsPerClient: 2, followerReads: true };
    expect(passes({ params: g1 })).toBe(909);
    expect(passes({ params: { ...g1, strongReads: false, snapshotReads: true } })).toBe(352);
  });

  it.runIf(process.env.PACTA_LONG)('at the default bounds: two concurrent clients, transfers and strong reads (minutes)', () => {
    expect(passes({})).toBe(197_527);
  }, 1_200_000);
});

describe('the broken variants', () => {
  // Every variant's bare check is run by tests/variants-caught.test.ts, and every checked-in trace
  // (traces/examples/spanner.*.json) replays to its violation in tests/traces-replay.test.ts.
  it('no-commit-wait: a strong read right after a commit misses it (external consistency), with exact clocks and no tick', () => {
    const r = checkSync(spanner.variant('no-commit-wait'), {});
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/^external consistency \(transaction checker/);
    expect(r.trace!.steps.length - 1).toBe(10);
  });
});
