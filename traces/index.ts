/** `pacta/traces`: the trace file format and its renderings. */
export { TRACE_FORMAT, TRACE_VERSION } from './format.ts';
export type { TraceFile, TraceStep } from './format.ts';
export { formatTrace } from './text.ts';
export { stateChanges, sentMessages, describeEvent, show } from './diff.ts';
export type { Change } from './diff.ts';
