/** `pacta-check/traces`: the trace file format, its renderings, and replay and minimization on the spec. */
export { TRACE_FORMAT, TRACE_VERSION } from './format.ts';
export type { TraceEvent, TraceFile, TraceStep } from './format.ts';
export { formatTrace } from './text.ts';
export { describeEvent } from './diff.ts';
export type { TraceSchedule } from './format.ts';
export { parseTrace, validateTrace, TraceError } from './read.ts';
export { timeline } from './timeline.ts';
export type { Timeline, TimelineStep, MessageArrow } from './timeline.ts';
export { toMermaid } from './mermaid.ts';
export { toHtml } from './html.ts';
export { toItf } from './itf.ts';
export type { ItfTrace, ItfValue } from './itf.ts';

// Replay and minimization run the spec, so they come from the checker; they are exported here,
// with the trace format they read, as the one entry point for working with traces.
export { replayTrace, minimizeTrace, ReplayMismatch } from './replay-api.ts';
export type { ReplayResult, Divergence, MinimizeOptions, MinimizeResult, PhaseReport } from './replay-api.ts';
