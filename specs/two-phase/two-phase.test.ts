/**
 * Two-phase commit against TLC: the distinct-state counts and BFS depths of TwoPhase.tla
 * (../shared/anchors/README.md) for 3..7 RMs, under the set network, BFS and DFS. A count is a
 * regression test: any silent change in the semantics of the world or the spec moves it.
 */
import { describe, expect, it } from 'vitest';
import { assertSpec, checkSync } from '../../checker/index.ts';
import twoPhase from './two-phase.ts';

const tlc: [rms: number, distinct: number, depth: number][] = [
  [3, 288, 11],
  [4, 1_568, 14],
  [5, 8_832, 17],
  [6, 50_816, 20],
  [7, 296_448, 23],
];

describe('two-phase matches TLC on TwoPhase.tla', () => {
  for (const [rms, distinct, depth] of tlc) {
    for (const mode of ['bfs', 'dfs'] as const) {
      if (rms === 7 && mode === 'dfs') continue; // one 7-RM run keeps the suite fast; DFS is pinned up to 6
      it(`rms=${rms} ${mode}: ${distinct} states`, () => {
        const r = checkSync(twoPhase, { params: { rms }, mode });
        expect(r.result).toBe('ok');
        expect(r.stats.distinctStates).toBe(distinct);
        if (mode === 'bfs') expect(r.stats.depth).toBe(depth);
        expect(r.goals.every((g) => g.reached)).toBe(true);
      });
    }
  }
});

describe('two-phase broken variants are caught', () => {
  it('commit-early: shortest counterexample is 3 steps (commit, deliver commit, another RM aborts)', () => {
    const r = checkSync(twoPhase.variant('commit-early'), {});
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/no RM committed while another aborted/);
    const steps = r.trace!.steps.map((s) => s.event.kind === 'action' ? `${s.event.action}` : s.event.kind);
    expect(steps).toEqual(['init', 'commit', 'deliver', 'chooseToAbort']);
  });

  it('commit-early is found by DFS too (not necessarily shortest)', () => {
    const r = checkSync(twoPhase.variant('commit-early'), { mode: 'dfs' });
    expect(r.result).toBe('violation');
  });

  it('rm-ignores-abort is caught', () => {
    const r = checkSync(twoPhase.variant('rm-ignores-abort'), {});
    expect(r.result).toBe('violation');
  });

  it('abort-after-commit is caught', () => {
    const r = checkSync(twoPhase.variant('abort-after-commit'), {});
    expect(r.result).toBe('violation');
    // Shortest: three prepares and their receipts, commit, one commit delivered, abort, one abort delivered.
    if (r.result === 'violation') expect(r.trace!.steps.length - 1).toBe(10);
  });

  it('assertSpec passes on the spec and throws a readable report on a variant', async () => {
    await assertSpec(twoPhase, { params: { rms: 3 } });
    await expect(assertSpec(twoPhase.variant('commit-early'))).rejects.toThrow(/expected ok, got violation[\s\S]*tm: commit/);
    await assertSpec(twoPhase.variant('commit-early'), { expect: 'violation' });
  });
});

describe('two-phase under faults and symmetry', () => {
  it('symmetry reduces rms=5 from 8,832 to far fewer states with the same verdicts', () => {
    const full = checkSync(twoPhase, { params: { rms: 5 } });
    const sym = checkSync(twoPhase, { params: { rms: 5 }, symmetry: true });
    expect(sym.result).toBe(full.result);
    expect(sym.stats.distinctStates).toBe(314);
    expect(sym.stats.distinctStates).toBeLessThan(665); // Stateright's published figure for 5 RMs
    for (const v of ['commit-early', 'rm-ignores-abort', 'abort-after-commit']) {
      expect(checkSync(twoPhase.variant(v), { params: { rms: 5 }, symmetry: true }).result).toBe('violation');
    }
  });

  it('bag and fifo networks with loss keep the invariant; the counts are pinned', () => {
    // Safety only: a lost decision leaves an RM undecided forever (2PC has no retransmission here),
    // so termination fails under loss, honestly; the invariant is what these runs pin.
    const bag = checkSync(twoPhase, { params: { rms: 3 }, network: 'bag', drop: true, liveness: false });
    const fifo = checkSync(twoPhase, { params: { rms: 3 }, network: 'fifo', drop: true, dup: true, liveness: false });
    const lossy = checkSync(twoPhase, { params: { rms: 3 }, network: 'bag', drop: true });
    expect(lossy.result === 'violation' && lossy.property.kind).toBe('eventually');
    expect(bag.result).toBe('ok');
    expect(fifo.result).toBe('ok');
    expect([bag.stats.distinctStates, fifo.stats.distinctStates]).toMatchInlineSnapshot(`
      [
        1880,
        6560,
      ]
    `);
  });

  it('crashes: durable RMs stay consistent; volatile RMs (a broken variant) do not', () => {
    // Safety only: with a TM crash termination fails (2PC blocks: the 'blocking' variant shows it).
    const r = checkSync(twoPhase, { params: { rms: 3 }, crashes: 1, liveness: false });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(1728);
    const v = checkSync(twoPhase.variant('volatile-rm'), { params: { rms: 2 }, crashes: 1 });
    expect(v.result).toBe('violation');
    if (v.result === 'violation') {
      expect(v.trace!.steps.map((s) => s.event.kind)).toContain('crash');
      expect(v.trace!.steps.length - 1).toBe(9);
    }
    // Without crashes the volatile variant is indistinguishable from the spec.
    expect(checkSync(twoPhase.variant('volatile-rm'), { params: { rms: 3 }, crashes: 0 }).stats.distinctStates).toBe(288);
  });
});
