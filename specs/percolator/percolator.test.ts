/**
 * Percolator: pinned state counts (regression tests of the semantics), the TLA+-shaped siblings
 * against TLC's counts for pingcap's Test2 configs, and what each broken variant breaks. The
 * bare check of every variant is in tests/variants-caught.test.ts; the set-network default and
 * Test1 under symmetry are too long for the suite (docs/protocols/percolator.md, bench/percolator.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSync, checkTransactions, makeTransactionHistory } from '../../checker/index.ts';
import type { HistoryEntry } from '../core/index.ts';
import { isolation, transactionsOf } from '../txn/index.ts';
import percolator from './percolator.ts';
import percolatorTla, { optimizedCommitTs } from './percolator-tla.ts';

describe('percolator under the set network (every message may be delivered again)', () => {
  it('one client, two transactions, async commit: 841 states', () => {
    const r = checkSync(percolator, { params: { clients: 1, perClient: 2, async: true } });
    expect([r.result, r.stats.distinctStates]).toEqual(['ok', 841]);
  });
});

describe('percolator (bag network: reordering, no duplicates)', () => {
  const cases: [name: string, params: Record<string, number | boolean | string>, distinct: number][] = [
    ['2PC, a transfer and a read', {}, 21_265],
    ['async commit, write skew workload', { async: true, workload: 'skew' }, 3_241],
    ['1PC (both keys on one store)', { onePC: true }, 1_641],
    ['2PC, write skew workload (reachable: SI is not serializable)', { workload: 'skew' }, 5_653],
  ];
  for (const [name, params, distinct] of cases) {
    it(`${name}: ok, ${distinct} states, every goal reached`, () => {
      const r = checkSync(percolator, { params, network: 'bag' });
      expect(r.result).toBe('ok');
      expect(r.stats.distinctStates).toBe(distinct);
      expect(r.goals.filter((g) => !g.reached)).toEqual([]);
    }, 120_000);
  }
});

describe('percolator variants break what they should', () => {
  // The cheap ones; tests/variants-caught.test.ts runs every variant's bare check.
  const expected: [variant: string, property: RegExp][] = [
    ['secondary-first', /atomicity/],
    ['volatile-tso', /tso: no two transactions share a start timestamp/],
    ['async-unlisted-secondary', /atomicity/],
  ];
  for (const [variant, property] of expected) {
    it(variant, () => {
      const r = checkSync(percolator.variant(variant));
      expect(r.result).toBe('violation');
      if (r.result === 'violation') expect(r.property.name).toMatch(property);
    }, 120_000);
  }
});

describe('the TLA+-shaped siblings match TLC on pingcap Test2', () => {
  it('percolator-tla: 3,308 states, depth 17', () => {
    const r = checkSync(percolatorTla);
    expect([r.result, r.stats.distinctStates, r.stats.depth]).toEqual(['ok', 3_308, 17]);
  });
  it('optimized-commit-ts-tla: 4,546 states, depth 17', () => {
    const r = checkSync(optimizedCommitTs);
    expect([r.result, r.stats.distinctStates, r.stats.depth]).toEqual(['ok', 4_546, 17]);
  });
  it('symmetry merges clients that share a primary, and only those', () => {
    const same = { clients: 2, keys: 2, primaries: '1,1' };
    const full = checkSync(percolatorTla, { params: same }).stats.distinctStates;
    const reduced = checkSync(percolatorTla, { params: same, symmetry: true }).stats.distinctStates;
    expect(reduced).toBeLessThan(full);
    expect(reduced).toBeGreaterThan(full / 2);
    // The orbit count, equal before and after tie groups were split by signatures (checker/symmetry.ts).
    expect(reduced).toBe(1_727);
  });
});

describe('every variant has its minimized trace in traces/examples (tests/traces-replay.test.ts replays them)', () => {
  it('one file per variant', () => {
    const files = readdirSync(join(import.meta.dirname, '..', '..', 'traces', 'examples')).filter((f) => f.startsWith('percolator.'));
    expect(files.sort()).toEqual(Object.keys(percolator.variants ?? {}).map((v) => `percolator.${v}.json`).sort());
  });
});

describe('the transaction checker sees the lost update in the history itself', () => {
  it('lost-update: the history has a lost update, and is not serializable in commit-timestamp order (G-single with timestamp edges)', () => {
    const lostUpdate = percolator.variant('lost-update');
    // Only the history property: the store-level invariants would stop the search first.
    const historyOnly = { ...lostUpdate, properties: () => [isolation('external-consistency')] } as typeof lostUpdate;
    const r = checkSync(historyOnly, { network: 'bag', params: { workload: 'transfers' } });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    const history = r.trace!.steps.at(-1)!.state.history as HistoryEntry[];
    const verdict = checkTransactions(makeTransactionHistory(transactionsOf(history)), { model: 'external-consistency' });
    // both transfers read the initial balance and overwrote it: Elle's lost update, which snapshot
    // isolation forbids; with commit timestamps ordering the versions it is also a G-single cycle
    expect(verdict.models['snapshot-isolation']).toBe(false);
    expect(verdict.anomalies.map((a) => a.type)).toEqual(expect.arrayContaining(['lost-update', 'G-single-timestamp']));
  }, 120_000);
});
