import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { simulatedClock } from './simulatedClock.ts';

describe('simulatedClock', () => {
  it('fires timers in due order, ties in the order set, only when advanced', () => {
    const clock = simulatedClock({ startMs: 1000 });
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b@20'));
    clock.setTimer(10, () => fired.push('a@10'));
    clock.setTimer(20, () => fired.push('c@20'));
    clock.setTimer(0, () => fired.push('z@0'));
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(4);
    expect(clock.advance(0)).toBe(1);
    expect(clock.advance(15)).toBe(1);
    expect(clock.now()).toBe(1015);
    expect(clock.advance(5)).toBe(2);
    expect(fired).toEqual(['z@0', 'a@10', 'b@20', 'c@20']);
    expect(clock.monotonicMs()).toBe(20);
  });

  it('fires a timer at its due time, and timers set while advancing within the same advance', () => {
    const clock = simulatedClock();
    const seen: number[] = [];
    clock.setTimer(5, () => {
      seen.push(clock.now());
      clock.setTimer(3, () => seen.push(clock.now()));
      clock.setTimer(50, () => seen.push(clock.now()));
    });
    clock.advance(10);
    expect(seen).toEqual([5, 8]);
    expect(clock.now()).toBe(10);
    expect(clock.nextTimerAtMs()).toBe(55);
  });

  it('cancels timers, idempotently', () => {
    const clock = simulatedClock();
    let fired = 0;
    const cancel = clock.setTimer(1, () => fired++);
    cancel();
    cancel();
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAtMs()).toBeUndefined();
    clock.advance(5);
    expect(fired).toBe(0);
  });

  it('runs timers one at a time, and stops a runaway', () => {
    const clock = simulatedClock();
    const order: number[] = [];
    clock.setTimer(7, () => order.push(7));
    clock.setTimer(3, () => order.push(3));
    expect(clock.runNext()).toBe(true);
    expect(clock.now()).toBe(3);
    expect(clock.runAll()).toBe(1);
    expect(order).toEqual([3, 7]);
    expect(clock.runNext()).toBe(false);
    const rearm = (): void => void clock.setTimer(1, rearm);
    rearm();
    expect(() => clock.runAll(100)).toThrowError(expect.objectContaining({ code: 'simulatedClock.runAll/runaway' }));
  });

  it('fires any set of timers sorted by (due time, order set)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 100 }), { maxLength: 50 }), fc.array(fc.nat(120), { maxLength: 10 }), (delays, steps) => {
        const clock = simulatedClock();
        const fired: number[] = [];
        delays.forEach((d, i) => clock.setTimer(d, () => fired.push(i)));
        for (const s of steps) clock.advance(s);
        clock.runAll();
        const expected = delays.map((d, i) => [Math.max(0, d), i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('gives views with an offset and a drift that share the timers', () => {
    const clock = simulatedClock({ startMs: 0 });
    const fast = clock.view({ offsetMs: 3, driftPpm: 1000 });
    let fired = false;
    fast.setTimer(10, () => (fired = true));
    clock.advance(1000);
    expect(fast.now()).toBeCloseTo(1000 + 3 + 1, 9);
    expect(fast.monotonicMs()).toBeCloseTo(1001, 9);
    expect(fired).toBe(true);
    expect(() => clock.view({ driftPpm: -1e6 })).toThrowError(expect.objectContaining({ code: 'simulatedClock.view/bad-drift-ppm' }));
  });

  it('rejects bad arguments with coded errors', () => {
    const clock = simulatedClock();
    expect(() => clock.advance(-1)).toThrowError(expect.objectContaining({ code: 'simulatedClock.advance/bad-ms' }));
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrowError(expect.objectContaining({ code: 'simulatedClock.setTimer/bad-delay-ms' }));
  });
});
