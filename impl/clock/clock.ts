/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type Cancel = () => void;

/**
 * What a node reads time from. `Reading` is a number of milliseconds for plain clocks, an interval
 * for TrueTime and a timestamp for the hybrid logical clock. Specs see only `now()` (through
 * `out.now()`); the runtime also sets timers and measures elapsed time.
 */
export interface Clock<Reading = number> {
  /** The current reading. */
  now(): Reading;
  /**
   * Calls `fn` once after `delayMs` (0 or less: as soon as possible, never synchronously).
   * Timers due at the same instant fire in the order they were set.
   */
  setTimer(delayMs: number, fn: () => void): Cancel;
  /** Milliseconds since the clock was made, never going back (wall steps do not affect it). */
  monotonicMs(): number;
}
