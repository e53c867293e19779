import type { Cancel, Clock } from './clock.ts';
import { systemClock } from './systemClock.ts';
import { UsageError } from '../net/usageError.ts';

/** A hybrid logical clock timestamp: physical part `wallMs` (integer ms) and a logical counter. */
export interface HlcTimestamp {
  readonly wallMs: number;
  readonly logical: number;
}

/** Orders timestamps: negative if `a` is earlier, 0 if equal, positive if later. */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  return a.wallMs !== b.wallMs ? a.wallMs - b.wallMs : a.logical - b.logical;
}

/** Options of {@link hlc}. */
export interface HlcOptions {
  /** The physical clock (its readings are floored to integer ms). Default {@link systemClock}. */
  readonly physical?: Clock<number>;
}

/**
 * A hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", OPODIS 2014).
 * Timestamps never go back, a receive is later than the matching send, and `wallMs` stays within
 * the clocks' mutual offset of the local physical clock.
 *
 * Limitation: a remote timestamp is trusted as is; a peer whose clock runs far ahead drags
 * `wallMs` with it (reject such peers above this layer if that matters).
 */
export interface HlcClock extends Clock<HlcTimestamp> {
  /** A local or send event: ticks the clock and returns the new timestamp. */
  now(): HlcTimestamp;
  /** Same as `now()`: the timestamp to attach to an outgoing message. */
  send(): HlcTimestamp;
  /** A receive event: merges the message's timestamp and returns the new local one. */
  receive(remote: HlcTimestamp): HlcTimestamp;
  /** The last timestamp issued, without ticking. */
  peek(): HlcTimestamp;
}

/** Makes an {@link HlcClock} over a physical clock. */
export function hlc(options: HlcOptions = {}): HlcClock {
  const physical = options.physical ?? systemClock();
  let wallMs = 0;
  let logical = 0;
  const pt = (): number => Math.floor(physical.now());

  const tick = (): HlcTimestamp => {
    const p = pt();
    if (p > wallMs) {
      wallMs = p;
      logical = 0;
    } else {
      logical++;
    }
    return { wallMs, logical };
  };

  return {
    now: tick,
    send: tick,
    receive(remote: HlcTimestamp): HlcTimestamp {
      if (
        typeof remote !== 'object' || remote === null ||
        !Number.isSafeInteger(remote.wallMs) || !Number.isSafeInteger(remote.logical) || remote.logical < 0
      ) {
        throw new UsageError('hlc.receive', 'bad-timestamp', 'remote must be { wallMs, logical } with safe integers, logical >= 0');
      }
      const p = pt();
      const previous = wallMs;
      wallMs = Math.max(previous, remote.wallMs, p);
      if (wallMs === previous && wallMs === remote.wallMs) logical = Math.max(logical, remote.logical) + 1;
      else if (wallMs === previous) logical++;
      else if (wallMs === remote.wallMs) logical = remote.logical + 1;
      else logical = 0;
      return { wallMs, logical };
    },
    peek: () => ({ wallMs, logical }),
    setTimer: (delayMs: number, fn: () => void): Cancel => physical.setTimer(delayMs, fn),
    monotonicMs: () => physical.monotonicMs(),
  };
}
