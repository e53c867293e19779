/**
 * check()'s options are named as pacta check's flags (`epsilon`, `time`, `frontierMemory`,
 * `maxMemory`); the old names stay for one release as deprecated aliases that must agree.
 */
import { describe, expect, it } from 'vitest';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { checkSync } from './check.ts';
import { normalizeOptions, OptionsError } from './options.ts';

describe('options named as the flags, with the old names as deprecated aliases', () => {
  it('takes each flag name, in the flag\'s unit', () => {
    const o = normalizeOptions(twoPhase, { epsilon: 2, time: 30, frontierMemory: 64, maxMemory: '200M' });
    expect(o.world.trueTimeEpsilon).toBe(2);
    expect(o.timeSeconds).toBe(30);
    expect(o.frontierMemoryBytes).toBe(64 * 2 ** 20);
    expect(o.maxMemoryBytes).toBe(200 * 2 ** 20);
    expect(normalizeOptions(twoPhase, { maxMemory: 'none' }).maxMemoryBytes).toBe(Number.POSITIVE_INFINITY);
    expect(normalizeOptions(twoPhase, { maxMemory: 3 * 2 ** 30 }).maxMemoryBytes).toBe(3 * 2 ** 30);
  });

  it('still takes the deprecated names, alone or agreeing with the new ones', () => {
    const old = normalizeOptions(twoPhase, { trueTimeEpsilon: 2, timeSeconds: 30, frontierMemoryBytes: 2 ** 26, maxMemoryBytes: 2 ** 30 });
    const both = normalizeOptions(twoPhase, {
      epsilon: 2, trueTimeEpsilon: 2, time: 30, timeSeconds: 30, frontierMemory: 64, frontierMemoryBytes: 2 ** 26, maxMemory: '1G', maxMemoryBytes: 2 ** 30,
    });
    for (const o of [old, both]) {
      expect([o.world.trueTimeEpsilon, o.timeSeconds, o.frontierMemoryBytes, o.maxMemoryBytes]).toEqual([2, 30, 2 ** 26, 2 ** 30]);
    }
  });

  it('refuses both names with different values, and bad values under the new name', () => {
    expect(() => normalizeOptions(twoPhase, { epsilon: 1, trueTimeEpsilon: 2 })).toThrow(/options 'epsilon' and 'trueTimeEpsilon' \(its deprecated name\) disagree/);
    expect(() => normalizeOptions(twoPhase, { time: 5, timeSeconds: 6 })).toThrow(OptionsError);
    expect(() => normalizeOptions(twoPhase, { maxMemory: '1G', maxMemoryBytes: 2 ** 20 })).toThrow(/give only 'maxMemory'/);
    expect(() => normalizeOptions(twoPhase, { time: -1 })).toThrow(/option 'time' must be a positive number/);
    expect(() => normalizeOptions(twoPhase, { maxMemory: 'lots' })).toThrow(/option 'maxMemory' expects a size/);
    expect(() => normalizeOptions(twoPhase, { epsilon: 0.5 })).toThrow(/option 'epsilon'/);
  });

  it('checks a spec under the new names', () => {
    const r = checkSync(twoPhase, { time: 60, maxMemory: 'none' });
    expect(r.result).toBe('ok');
  });
});

describe('a spec\'s checkDefaults and a variant\'s expose.options', () => {
  it('take `epsilon` (spanner declares it), and the deprecated `trueTimeEpsilon`', async () => {
    const spanner = (await import('../specs/spanner/spanner.ts')).default;
    expect(spanner.checkDefaults).toMatchObject({ epsilon: 1 });
    expect(normalizeOptions(spanner).world.trueTimeEpsilon).toBe(1);
    expect(normalizeOptions(spanner, { epsilon: 3 }).world.trueTimeEpsilon).toBe(3);
    expect(normalizeOptions(spanner, { trueTimeEpsilon: 2 }).world.trueTimeEpsilon).toBe(2);
    const old = { ...twoPhase, exposure: { options: { trueTimeEpsilon: 2 } } } as typeof twoPhase;
    expect(normalizeOptions(old).world.trueTimeEpsilon).toBe(2);
  });
});
