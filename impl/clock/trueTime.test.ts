import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { simulatedClock } from './simulatedClock.ts';
import { trueTime } from './trueTime.ts';

describe('trueTime', () => {
  it('contains true time whenever the base clock errs by at most epsilon', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -200, max: 200, noNaN: true }),
        fc.array(fc.nat(10_000), { maxLength: 20 }),
        (epsilonMs, share, driftPpm, steps) => {
          const horizonMs = 20 * 10_000;
          // A small start keeps float rounding (ulp ~2e-4 ms at Unix epoch ms) out of the comparison.
          const sim = simulatedClock({ startMs: 1_000_000 });
          // Keep |offset + drift over the horizon| <= epsilon: a clock within its declared bound.
          const driftBudgetMs = (Math.abs(driftPpm) * horizonMs) / 1e6;
          const offsetMs = share * Math.max(0, epsilonMs - driftBudgetMs);
          const tt = trueTime({ epsilonMs: Math.max(epsilonMs, driftBudgetMs), base: sim.view({ offsetMs, driftPpm }) });
          for (const step of [0, ...steps]) {
            sim.advance(step);
            const { earliest, latest } = tt.now();
            expect(earliest).toBeLessThanOrEqual(sim.now());
            expect(latest).toBeGreaterThanOrEqual(sim.now());
            expect(Math.abs(latest - earliest - 2 * tt.epsilonMs)).toBeLessThan(1e-6);
          }
        },
      ),
    );
  });

  it('loses containment when the clock errs beyond epsilon (the fault that breaks commit-wait)', () => {
    const sim = simulatedClock({ startMs: 0 });
    const tt = trueTime({ epsilonMs: 5, base: sim.view({ offsetMs: 8 }) });
    sim.advance(100);
    expect(tt.now().earliest).toBeGreaterThan(sim.now());
  });

  it('answers after/before and waits out a commit', async () => {
    const sim = simulatedClock({ startMs: 1000 });
    const tt = trueTime({ epsilonMs: 7, base: sim });
    const commitMs = tt.now().latest; // 1007
    expect(tt.after(commitMs)).toBe(false);
    expect(tt.before(1008)).toBe(true);
    let waited = false;
    const wait = tt.waitUntilAfter(commitMs).then(() => (waited = true));
    sim.advance(13);
    await Promise.resolve();
    expect(waited).toBe(false);
    sim.advance(2);
    await wait;
    expect(tt.after(commitMs)).toBe(true);
    // Commit wait lasts 2 epsilon (+1 ms for the strict comparison at ms resolution).
    expect(sim.now() - 1000).toBe(15);
  });

  it('rejects a negative epsilon', () => {
    expect(() => trueTime({ epsilonMs: -1 })).toThrowError(expect.objectContaining({ code: 'trueTime/bad-epsilon-ms' }));
  });
});
