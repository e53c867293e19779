import { performance } from 'node:perf_hooks';
import type { Cancel, Clock } from './clock.ts';
import { requireNumber } from '../net/usageError.ts';

/**
 * The machine's clock: `now()` reads wall time (`Date.now()`, Unix ms, may step under NTP);
 * timers and `monotonicMs()` use the monotonic clock (libuv timers, `performance.now()`), so a
 * wall step neither fires nor delays a timer.
 *
 * A zero delay uses `setImmediate` rather than `setTimeout(0)`, which Node rounds up to 1 ms.
 */
export function systemClock(): Clock<number> {
  const startMs = performance.now();
  return {
    now: () => Date.now(),
    monotonicMs: () => performance.now() - startMs,
    setTimer(delayMs: number, fn: () => void): Cancel {
      requireNumber('systemClock.setTimer', 'delayMs', delayMs, -Infinity, 2 ** 31 - 1);
      if (delayMs <= 0) {
        const handle = setImmediate(fn);
        return () => clearImmediate(handle);
      }
      const handle = setTimeout(fn, delayMs);
      return () => clearTimeout(handle);
    },
  };
}
