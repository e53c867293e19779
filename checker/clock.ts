/**
 * The clock, as one object that owns its rules: discrete true time advanced by `tick` events up
 * to `maxTime`; each protocol node reads true time plus its own offset, which `drift` events
 * move by ±1 within [-clockError, clockError]; TrueTime readings are [reading - ε, reading + ε].
 */
import type { Layout } from '../specs/core/layout.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { WorldOptions, WorldState } from './world-state.ts';

/** The drift steps a node's offset can take. */
export const DRIFTS = [-1, 1] as const;

export class Clock {
  readonly maxTime: number;
  readonly clockError: number;
  readonly epsilon: number;

  constructor(
    private readonly layout: Layout,
    options: WorldOptions,
  ) {
    this.maxTime = options.maxTime;
    this.clockError = options.clockError;
    this.epsilon = options.trueTimeEpsilon;
  }

  /** Node `id`'s clock reading in `s` (`out.now()`). */
  reading(s: WorldState, id: NodeId): number {
    return s.time + s.offsets[id]!;
  }

  canTick(s: WorldState): boolean {
    return s.time < this.maxTime;
  }

  tick(s: WorldState): WorldState {
    return { ...s, time: s.time + 1 };
  }

  /** Whether node `id`'s offset can move by `by` in `s`. */
  canDrift(s: WorldState, id: NodeId, by: number): boolean {
    if (this.clockError === 0 || this.layout.isClient(id)) return false;
    const offset = s.offsets[id]! + by;
    return offset >= -this.clockError && offset <= this.clockError;
  }

  drift(s: WorldState, id: NodeId, by: number): WorldState {
    const offsets = s.offsets.slice();
    offsets[id] = s.offsets[id]! + by;
    return { ...s, offsets };
  }
}
