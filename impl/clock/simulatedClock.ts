import type { Cancel, Clock } from './clock.ts';
import { UsageError, requireNumber } from '../net/usageError.ts';

/** Options of {@link simulatedClock}. */
export interface SimulatedClockOptions {
  /** The reading at the start, in ms. Default 0. */
  readonly startMs?: number;
}

/** How a {@link SimulatedClock.view} errs from true time. */
export interface ClockErrorOptions {
  /** Constant offset from true time, in ms. */
  readonly offsetMs?: number;
  /** Rate error, in parts per million of elapsed true time (e.g. 100 = gains 0.1 ms per s). */
  readonly driftPpm?: number;
}

/**
 * A clock that moves only when the test moves it. Its reading is the simulation's true time.
 * Timers fire in order of due time, ties in the order they were set; a timer set while advancing
 * fires in the same advance if it falls due within it.
 */
export interface SimulatedClock extends Clock<number> {
  /** Moves time forward by `ms`, firing every timer that falls due. Returns how many fired. */
  advance(ms: number): number;
  /** Moves time forward to `timeMs` (not backwards), firing timers due by then. */
  advanceTo(timeMs: number): number;
  /** Jumps to the next timer's due time and fires it (and only it). False if none is pending. */
  runNext(): boolean;
  /**
   * Fires timers until none is pending. Throws a `UsageError` (`simulatedClock.runAll/runaway`)
   * past `timersMax` firings, the sign of a timer that keeps re-arming itself.
   */
  runAll(timersMax?: number): number;
  /** Timers set and neither fired nor cancelled. */
  readonly pendingTimers: number;
  /** Due time of the next timer, or undefined. */
  nextTimerAtMs(): number | undefined;
  /**
   * A node's view of this clock: reads true time plus an offset and a drift, and shares the
   * timers. Limitation: the view's timers run on true time (a drifting clock's timers would drift
   * too), which only matters for drifts far above real hardware's ~100 ppm.
   */
  view(error: ClockErrorOptions): Clock<number>;
}

interface Timer {
  readonly atMs: number;
  readonly order: number;
  fn: (() => void) | undefined;
}

/** Makes a {@link SimulatedClock}. Deterministic: no real time is read. */
export function simulatedClock(options: SimulatedClockOptions = {}): SimulatedClock {
  const startMs = options.startMs ?? 0;
  requireNumber('simulatedClock', 'startMs', startMs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  let nowMs = startMs;
  let order = 0;
  let pending = 0;
  const heap: Timer[] = [];

  const before = (a: Timer, b: Timer): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);

  function push(t: Timer): void {
    heap.push(t);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  function pop(): Timer | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Drops cancelled timers from the top so heap[0] is live. */
  function peekLive(): Timer | undefined {
    while (heap.length > 0 && heap[0]!.fn === undefined) pop();
    return heap[0];
  }

  function fire(t: Timer): void {
    const fn = t.fn!;
    t.fn = undefined;
    pending--;
    nowMs = Math.max(nowMs, t.atMs);
    fn();
  }

  function advanceTo(targetMs: number): number {
    requireNumber('simulatedClock.advanceTo', 'timeMs', targetMs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    let fired = 0;
    for (let t = peekLive(); t && t.atMs <= targetMs; t = peekLive()) {
      pop();
      fire(t);
      fired++;
    }
    nowMs = Math.max(nowMs, targetMs);
    return fired;
  }

  const clock: SimulatedClock = {
    now: () => nowMs,
    monotonicMs: () => nowMs - startMs,
    setTimer(delayMs: number, fn: () => void): Cancel {
      requireNumber('simulatedClock.setTimer', 'delayMs', delayMs, -Infinity, Number.MAX_SAFE_INTEGER);
      if (typeof fn !== 'function') throw new UsageError('simulatedClock.setTimer', 'bad-fn', 'fn must be a function');
      const timer: Timer = { atMs: nowMs + Math.max(0, delayMs), order: order++, fn };
      pending++;
      push(timer);
      return () => {
        if (timer.fn) {
          timer.fn = undefined;
          pending--;
        }
      };
    },
    advance(ms: number): number {
      requireNumber('simulatedClock.advance', 'ms', ms, 0, Number.MAX_SAFE_INTEGER);
      return advanceTo(nowMs + ms);
    },
    advanceTo,
    runNext(): boolean {
      const t = peekLive();
      if (!t) return false;
      pop();
      fire(t);
      return true;
    },
    runAll(timersMax = 1_000_000): number {
      let fired = 0;
      while (clock.runNext()) {
        if (++fired >= timersMax && pending > 0) {
          throw new UsageError('simulatedClock.runAll', 'runaway', `more than ${timersMax} timers fired; a timer keeps re-arming`);
        }
      }
      return fired;
    },
    get pendingTimers() {
      return pending;
    },
    nextTimerAtMs: () => peekLive()?.atMs,
    view(error: ClockErrorOptions): Clock<number> {
      const offsetMs = error.offsetMs ?? 0;
      const driftPpm = error.driftPpm ?? 0;
      requireNumber('simulatedClock.view', 'offsetMs', offsetMs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      // Above -1e6 ppm the view still moves forward.
      requireNumber('simulatedClock.view', 'driftPpm', driftPpm, -999_999, 1_000_000);
      const scale = 1 + driftPpm / 1e6;
      return {
        now: () => nowMs + offsetMs + ((nowMs - startMs) * driftPpm) / 1e6,
        monotonicMs: () => (nowMs - startMs) * scale,
        setTimer: (delayMs, fn) => clock.setTimer(delayMs, fn),
      };
    },
  };
  return clock;
}
