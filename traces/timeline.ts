/**
 * A trace as a timeline, the shared model of the sequence-diagram renderers (Mermaid, HTML):
 * which node each step happens at, what it changed and sent, and message arrows from the step
 * that sent a message to the step that delivered (or dropped) it.
 */
import { describeEvent, sentMessages, show, stateChanges, type Change } from './diff.ts';
import type { TraceFile } from './format.ts';

export interface TimelineStep {
  index: number;
  kind: string;
  /** One line, with node names (`tm → rm1: commit`). */
  text: string;
  /** The node the step happens at (the receiver of a delivery); null for clock ticks and init. */
  node: number | null;
  /** Field changes, crash flags and time. */
  changes: Change[];
  /** Messages that went in flight with this step. */
  sent: { to: number; msg: string }[];
}

export interface MessageArrow {
  from: number;
  to: number;
  msg: string;
  /** The step that sent it (null when it was in flight from the start). */
  sentAt: number | null;
  /** The step that delivered, duplicated or dropped it. */
  at: number;
  kind: 'deliver' | 'duplicate' | 'drop' | 'invoke';
}

export interface Timeline {
  title: string;
  /** What the trace shows, in one line. */
  verdict: string;
  nodes: string[];
  steps: TimelineStep[];
  arrows: MessageArrow[];
}

/** Builds the timeline of a trace. */
export function timeline(trace: TraceFile): Timeline {
  const title = trace.variant ? `${trace.spec}:${trace.variant}` : trace.spec;
  const n = trace.steps.length - 1;
  const verdict =
    trace.result === 'violation' && trace.loopStart !== undefined
      ? `violates "${trace.property?.name}": a lasso, ${trace.loopStart === n ? `stuck at step ${n} forever` : `steps ${trace.loopStart + 1}..${n} repeat forever`}`
      : trace.result === 'violation'
      ? `violates "${trace.property?.name}" after ${n} steps`
      : trace.result === 'deadlock'
        ? `deadlocks after ${n} steps`
        : `spec code throws at step ${n}: ${trace.error ?? 'error'}`;
  const steps: TimelineStep[] = [];
  const arrows: MessageArrow[] = [];
  /** Message key → the last step that put a copy in flight. */
  const lastSent = new Map<string, number>();
  trace.steps.forEach((step, i) => {
    const e = step.event as Record<string, unknown>;
    const prev = i > 0 ? trace.steps[i - 1]!.state : null;
    const changes = prev ? stateChanges(prev, step.state) : [];
    const sent = prev ? sentMessages(prev, step.state) : [];
    const node = typeof e.to === 'number' && e.kind !== 'invoke' ? e.to : typeof e.node === 'number' ? e.node : null;
    if (e.kind === 'deliver' || e.kind === 'duplicate' || e.kind === 'drop') {
      const k = key(e.from, e.to, e.msg);
      arrows.push({ from: e.from as number, to: e.to as number, msg: show(e.msg), sentAt: lastSent.get(k) ?? null, at: i, kind: e.kind });
    }
    if (e.kind === 'invoke') arrows.push({ from: e.node as number, to: e.to as number, msg: show(e.op), sentAt: i, at: i, kind: 'invoke' });
    for (const m of sent) lastSent.set(key(m.from, m.to, m.msg), i);
    steps.push({
      index: i,
      kind: String(e.kind),
      text: describeEvent(trace, step),
      node,
      changes,
      sent: sent.map((m) => ({ to: m.to, msg: show(m.msg) })),
    });
  });
  return { title, verdict, nodes: trace.nodes, steps, arrows };
}

function key(from: unknown, to: unknown, msg: unknown): string {
  return `${String(from)}>${String(to)}:${JSON.stringify(msg)}`;
}
