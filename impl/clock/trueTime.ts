import type { Cancel, Clock } from './clock.ts';
import { systemClock } from './systemClock.ts';
import { UsageError, requireNumber } from '../net/usageError.ts';

/**
 * A TrueTime reading in ms: true time is guaranteed to lie in `[earliest, latest]`. Structurally the
 * spec contract's `Interval` (specs/core), so a runtime passes it to `out.trueTime()` as is.
 */
export interface TimeInterval {
  readonly earliest: number;
  readonly latest: number;
}

/** Options of {@link trueTime}. */
export interface TrueTimeOptions {
  /**
   * The bound on the base clock's error, in ms (Spanner's ε). The interval is only as true as
   * this bound: nothing here measures it, so it must come from the clock discipline (NTP, PTP).
   */
  readonly epsilonMs: number;
  /** The clock whose readings are widened. Default {@link systemClock}. */
  readonly base?: Clock<number>;
}

/** A TrueTime clock (Spanner, OSDI 2012): readings are intervals. */
export interface TrueTimeClock extends Clock<TimeInterval> {
  readonly epsilonMs: number;
  /** TT.after(t): true time is surely past `timeMs`. */
  after(timeMs: number): boolean;
  /** TT.before(t): true time has surely not reached `timeMs`. */
  before(timeMs: number): boolean;
  /**
   * Commit wait: resolves once `after(timeMs)` holds, polling the base clock with its timers
   * (re-checking, so a base clock that runs slow does not end the wait early).
   */
  waitUntilAfter(timeMs: number): Promise<void>;
}

/** Makes a {@link TrueTimeClock} of half-width `epsilonMs` around the base clock's reading. */
export function trueTime(options: TrueTimeOptions): TrueTimeClock {
  const epsilonMs = options.epsilonMs;
  requireNumber('trueTime', 'epsilonMs', epsilonMs, 0, Number.MAX_SAFE_INTEGER);
  const base = options.base ?? systemClock();
  const now = (): TimeInterval => {
    const t = base.now();
    return { earliest: t - epsilonMs, latest: t + epsilonMs };
  };
  return {
    epsilonMs,
    now,
    setTimer: (delayMs: number, fn: () => void): Cancel => base.setTimer(delayMs, fn),
    monotonicMs: () => base.monotonicMs(),
    after: (timeMs) => now().earliest > timeMs,
    before: (timeMs) => now().latest < timeMs,
    waitUntilAfter(timeMs: number): Promise<void> {
      if (typeof timeMs !== 'number' || Number.isNaN(timeMs)) {
        throw new UsageError('trueTime.waitUntilAfter', 'bad-time-ms', 'timeMs must be a number');
      }
      return new Promise((resolve) => {
        const check = (): void => {
          const earliest = now().earliest;
          if (earliest > timeMs) resolve();
          // Wait just past the remaining gap, since `after` is strict.
          else base.setTimer(Math.floor(timeMs - earliest) + 1, check);
        };
        check();
      });
    },
  };
}
