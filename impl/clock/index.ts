/** Clock layer: the readings a spec sees through `out.now()`, and the runtime's timers. */
export type { Cancel, Clock } from './clock.ts';
export { systemClock } from './systemClock.ts';
export { simulatedClock, type SimulatedClock, type SimulatedClockOptions, type ClockErrorOptions } from './simulatedClock.ts';
export { trueTime, type TrueTimeClock, type TrueTimeOptions, type TimeInterval } from './trueTime.ts';
export { hlc, compareHlc, type HlcClock, type HlcOptions, type HlcTimestamp } from './hlc.ts';
