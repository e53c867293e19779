/**
 * CockroachDB: the HLC rules, the properties' helpers, pinned state counts of the correct spec at
 * small bounds (the default bounds, 17,437 states, take ~35 s: docs/protocols/cockroach.md), and
 * broken variants caught by the property that stands for their bug. tests/variants-caught.test.ts
 * runs every variant's bare check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../../checker/index.ts';
import type { HistoryEntry } from '../core/index.ts';
import cockroach from './cockroach.ts';
import { forward, pack, receive, tick, unpack } from './hlc.ts';
import { causalReverses } from './properties.ts';

const hlc = fc.record({ l: fc.nat(20), c: fc.nat(20) });

describe('the HLC rules', () => {
  it('a local event and a receive are strictly above the clock, and a receive above the message (Kulkarni et al.)', () => {
    fc.assert(fc.property(hlc, hlc, fc.nat(25), (h, m, pt) => {
      const r = receive(h, m, pt);
      expect(pack(r)).toBeGreaterThan(pack(h));
      expect(pack(r)).toBeGreaterThan(pack(m));
      expect(r.l).toBeGreaterThanOrEqual(pt);
      expect(pack(tick(h, pt))).toBeGreaterThan(pack(h));
    }));
  });

  it("CockroachDB's forward-only receive is at or above both, and packing keeps the pair order", () => {
    fc.assert(fc.property(hlc, hlc, (h, m) => {
      const r = forward(h, m);
      expect(pack(r)).toBe(Math.max(pack(h), pack(m)));
      expect(unpack(pack(h))).toEqual(h);
    }));
  });
});

describe('the causal reverse', () => {
  const w = (key: number) => ({ steps: [{ f: 'w' as const, key, n: 1 }] });
  const done = (client: number, commitTs: number): HistoryEntry => ({ kind: 'return', client, id: 0, result: { status: 'committed', startTs: 0, commitTs, reads: [] } });

  it('is a later write on other keys at a smaller timestamp; concurrent or conflicting pairs are not', () => {
    const h: HistoryEntry[] = [{ kind: 'invoke', client: 4, id: 0, op: w(0) }, done(4, 101), { kind: 'invoke', client: 5, id: 0, op: w(1) }, done(5, 1)];
    expect(causalReverses(h)).toEqual([{ first: '4.0', second: '5.0', ts: [101, 1] }]);
    expect(causalReverses([h[0]!, h[2]!, h[1]!, h[3]!])).toEqual([]);
    const same: HistoryEntry[] = [{ kind: 'invoke', client: 4, id: 0, op: w(0) }, done(4, 101), { kind: 'invoke', client: 5, id: 0, op: w(0) }, done(5, 1)];
    expect(causalReverses(same)).toEqual([]);
  });
});

/** Checks the correct spec; returns the distinct states, and asserts every goal was reached. */
function passes(options: CheckOptions): number {
  const r = checkSync(cockroach, options);
  expect(r.result === 'violation' ? `${r.result}: ${r.property.name}` : r.result).toBe('ok');
  expect(r.goals.filter((g) => !g.reached)).toEqual([]);
  return r.stats.distinctStates;
}

describe('the correct protocol (pinned state counts; bag network)', () => {
  it('two read-modify-writes of one key on one node: pushes, write-too-old, refreshes', () => {
    expect(passes({ params: { nodes: 1, keys: 1, writes: false, reads: false, rmw: true, skew: 0 } })).toBe(3_359);
  }, 60_000);

  it('a write and a read of one key on two nodes, node 0 one tick ahead: uncertainty restarts', () => {
    expect(passes({ params: { keys: 1 } })).toBe(6_785);
  }, 60_000);
});

describe('the broken variants', () => {
  it('ignore-uncertainty: a read after a write on a node behind misses it (stale read of one key)', () => {
    const r = checkSync(cockroach.variant('ignore-uncertainty'), {});
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/^no stale read of key 0/);
  }, 60_000);

  it('recovery-no-prevent: an acknowledged commit whose record recovery ABORTED', () => {
    const r = checkSync(cockroach.variant('recovery-no-prevent'), {});
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/^atomicity/);
  }, 60_000);
});
