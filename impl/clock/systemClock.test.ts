import { describe, it, expect } from 'vitest';
import { systemClock } from './systemClock.ts';

describe('systemClock', () => {
  it('reads wall time and a monotonic elapsed time', () => {
    const clock = systemClock();
    const before = Date.now();
    const reading = clock.now();
    expect(reading).toBeGreaterThanOrEqual(before);
    expect(reading).toBeLessThanOrEqual(Date.now());
    const a = clock.monotonicMs();
    const b = clock.monotonicMs();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('fires timers after their delay, asynchronously for zero delays, and cancels them', async () => {
    const clock = systemClock();
    const order: string[] = [];
    // Timers start from libuv's cached loop time; right after the poll phase it is fresh.
    await new Promise((resolve) => setImmediate(resolve));
    const start = clock.monotonicMs();
    let firedAtMs = 0;
    const done = new Promise<void>((resolve) => clock.setTimer(15, () => ((firedAtMs = clock.monotonicMs()), resolve())));
    clock.setTimer(0, () => order.push('immediate'));
    const cancel = clock.setTimer(5, () => order.push('cancelled'));
    cancel();
    order.push('sync');
    await done;
    expect(order).toEqual(['sync', 'immediate']);
    // Libuv's loop time has ms resolution and may lag performance.now() slightly; allow 2 ms.
    expect(firedAtMs - start).toBeGreaterThanOrEqual(13);
  });
});
