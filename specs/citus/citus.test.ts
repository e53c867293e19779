/**
 * citus: pinned state counts, the goals (a 2PC across workers, a reference-table write on every
 * placement, orphaned prepared transactions that only recovery can end, a distributed deadlock
 * broken by cancelling its youngest transaction), the broken variants caught with their shortest
 * traces, and the deadlock detector's cycle search.
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckResult } from '../../checker/index.ts';
import citus, { youngestInCycle } from './citus.ts';

const unreached = (r: CheckResult): string[] => r.goals.filter((g) => !g.reached).map((g) => g.name);
const steps = (r: CheckResult): number => (r.result === 'violation' ? r.trace!.steps.length - 1 : -1);
const violated = (r: CheckResult): string => (r.result === 'violation' ? r.property.name : r.result);

describe('citus: the correct protocol', () => {
  it('defaults on the bag network, ≤ 3 messages in flight: 3,862 states, every goal reached', () => {
    const r = checkSync(citus, { network: 'bag', maxInFlight: 3 });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(3_862);
    expect(unreached(r)).toEqual([]);
  });

  it('a distributed deadlock forms and the detector cancels the youngest transaction (2 clients, opposite orders)', () => {
    const r = checkSync(citus, {
      params: { workload: 'deadlock', clients: 2, unilateralAbort: false, connectionFailures: false, recovery: false },
      network: 'bag', maxInFlight: 3,
    });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(9_621);
    expect(unreached(r)).toEqual([]);
    expect(r.goals.find((g) => g.name.startsWith('the detector'))?.depth).toBe(16);
  });
});

describe('citus broken variants are caught', () => {
  const cases: [variant: string, property: RegExp, length: number][] = [
    ['recovery-during-prepare', /^atomic commit/, 19],
    ['recovery-without-recheck', /^no half-committed transaction/, 17],
    ['record-outside-transaction', /^no half-committed transaction/, 17],
  ];
  for (const [variant, property, length] of cases) {
    it(`${variant}: ${length} steps`, () => {
      const r = checkSync(citus.variant(variant), {});
      expect(violated(r)).toMatch(property);
      expect(steps(r)).toBe(length);
    });
  }
});

describe('youngestInCycle (distributed_deadlock_detection.c)', () => {
  const ts = (entries: [string, number][]) => new Map(entries.map(([k, v]) => [k, { ts: v }]));
  it('finds a two-transaction cycle across workers and picks the later start', () => {
    const edges = [{ waiter: 'a', holder: 'b' }, { waiter: 'b', holder: 'a' }];
    expect(youngestInCycle(edges, ts([['a', 0], ['b', 1]]))).toBe('b');
    expect(youngestInCycle(edges, ts([['a', 5], ['b', 1]]))).toBe('a');
  });
  it('no cycle, no victim; a waiter outside the cycle is never picked', () => {
    expect(youngestInCycle([{ waiter: 'a', holder: 'b' }], ts([['a', 0], ['b', 1]]))).toBeNull();
    const edges = [{ waiter: 'c', holder: 'a' }, { waiter: 'a', holder: 'b' }, { waiter: 'b', holder: 'a' }];
    expect(youngestInCycle(edges, ts([['a', 0], ['b', 1], ['c', 9]]))).toBe('b');
  });
  it('skips transactions whose backend is gone (not started here)', () => {
    const edges = [{ waiter: 'a', holder: 'b' }, { waiter: 'b', holder: 'a' }];
    expect(youngestInCycle(edges, ts([['a', 0]]))).toBe('a');
  });
});
