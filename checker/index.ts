/** `pacta/checker`: explore protocols and check their properties. */
export { check, checkSync, assertSpec, SpecCheckFailure } from './check.ts';
export { normalizeOptions, resolveParams, parseParam, OptionsError } from './options.ts';
export type { CheckOptions, Options, Progress, Mode } from './options.ts';
export type { CheckResult, Ok, Violation, Deadlock, Incomplete, ErrorResult, Stats, GoalStatus } from './result.ts';
export { World, HandlerError, defaultWorldOptions } from './world.ts';
export type { WorldOptions, WorldState, WorldJSON, Envelope, NetworkMode, TraceEvent } from './world.ts';
export { WorldView } from './world-view.ts';
export { Model } from './model.ts';
export { fingerprint, fingerprintHex, collisionProbability } from './fingerprint.ts';
export { StateStore } from './state-store.ts';
export { Symmetry } from './symmetry.ts';
