/**
 * A vitest test for your own spec: `npm install --save-dev vitest`, then `npx vitest run`.
 * `assertSpec` checks the spec and throws a readable report (the trace, with node names) unless
 * the result is the one expected; its options are named as `pacta check`'s flags.
 */
import { describe, expect, it } from 'vitest';
import { assertSpec } from 'pacta-check/checker';
import counter from './counter.ts';

describe('counter', () => {
  it('holds its properties in every state', async () => {
    const r = await assertSpec(counter);
    // The count pins the state space: a change in the spec's semantics shows up here.
    expect(r.stats.distinctStates).toBe(16);
  });

  it('holds them for a larger max (pacta check --param max=4)', async () => {
    const r = await assertSpec(counter, { params: { max: 4 } });
    expect(r.stats.distinctStates).toBe(25);
  });

  it('the broken variant is caught, with a trace', async () => {
    const r = await assertSpec(counter.variant('unbounded'), { expect: 'violation' });
    expect(r).toMatchObject({ result: 'violation', property: { name: 'bounded', kind: 'invariant' } });
    expect(r.result === 'violation' && r.trace?.steps.length).toBeGreaterThan(0);
  });

  it('random walks under a time bound (pacta check --mode random --seed 7 --time 5)', async () => {
    await assertSpec(counter, { mode: 'random', seed: 7, walks: 200, time: 5 });
  });
});
