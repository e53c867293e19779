/** `pacta/traces`: the trace file format and its renderings. */
export { TRACE_FORMAT, TRACE_VERSION } from './format.ts';
export type { TraceEvent, TraceFile, TraceStep } from './format.ts';
export { formatTrace } from './text.ts';
export { stateChanges, sentMessages, describeEvent, show } from './diff.ts';
export type { Change } from './diff.ts';
export type { TraceSchedule } from './format.ts';
export { parseTrace, validateTrace, TraceError, EVENT_KINDS } from './read.ts';
export { timeline } from './timeline.ts';
export type { Timeline, TimelineStep, MessageArrow } from './timeline.ts';
export { toMermaid } from './mermaid.ts';
export { toHtml } from './html.ts';
export { toItf } from './itf.ts';
export type { ItfTrace, ItfValue } from './itf.ts';
export { withNodeNames } from './node-names.ts';
