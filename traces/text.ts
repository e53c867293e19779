/** Plain-text rendering of a trace: one line per step with the event and what it changed. */
import { describeEvent, sentMessages, show, stateChanges } from './diff.ts';
import type { TraceFile } from './format.ts';

/** Renders a trace as text: a verdict line, where it came from, then one line per step. */
export function formatTrace(trace: TraceFile): string {
  const title = trace.variant ? `${trace.spec}:${trace.variant}` : trace.spec;
  const what =
    trace.result === 'violation' ? `violates "${trace.property?.name}"` : trace.result === 'deadlock' ? 'deadlocks' : `fails: ${trace.error ?? 'error'}`;
  const lines = [`${title} ${what} after ${trace.steps.length - 1} steps`];
  const loop = trace.loopStart;
  if (loop !== undefined) {
    lines.push(
      loop === trace.steps.length - 1
        ? `  (a lasso: the run stays at step ${loop} forever — no fair step is enabled there)`
        : `  (a lasso: steps ${loop + 1}..${trace.steps.length - 1} repeat forever, returning to the state of step ${loop}; marked ↻)`,
    );
  }
  const bounded = trace.bounded;
  if (bounded) {
    lines.push(
      bounded.terminal
        ? `  (a bounded walk: unsatisfied over the last ${bounded.steps} steps, ending in a state where no fair event is enabled: a fair run may stay there forever)`
        : `  (a bounded random walk: unsatisfied over the last ${bounded.steps} steps under fair random scheduling — a SUSPECTED violation, not a proof; marked …)`,
    );
  }
  const provenance = runLine(trace);
  if (provenance) lines.push(provenance);
  const width = String(trace.steps.length - 1).length;
  trace.steps.forEach((step, i) => {
    const event = describeEvent(trace, step);
    const effects: string[] = [];
    if (i === 0) {
      effects.push(step.state.nodes.map((n) => `${n.name}=${show(n.state)}`).join(' '));
    } else {
      const prev = trace.steps[i - 1]!.state;
      for (const c of stateChanges(prev, step.state)) effects.push(`${c.path}: ${show(c.before)} → ${show(c.after)}`);
      const sent = sentMessages(prev, step.state);
      if (sent.length) {
        effects.push(`sends ${sent.map((e) => `${show(e.msg)} → ${trace.nodes[e.to] ?? e.to}`).join(', ')}`);
      }
    }
    const waitFrom = bounded ? trace.steps.length - 1 - bounded.steps : -1;
    const marker = loop !== undefined ? (i === loop ? '↻' : i > loop ? '│' : ' ')
      : bounded ? (i >= waitFrom ? '…' : ' ')
        : i === trace.steps.length - 1 && trace.result !== 'deadlock' ? '✗' : ' ';
    lines.push(`${marker} ${String(i).padStart(width)}  ${event.padEnd(34)} ${effects.join('; ')}`.trimEnd());
  });
  if (loop !== undefined) {
    lines.push(loop === trace.steps.length - 1 ? `↻ ${''.padStart(width)}  (stutters at step ${loop} forever)` : `↻ ${''.padStart(width)}  (back to step ${loop}; the cycle repeats forever)`);
  }
  return lines.join('\n');
}

/** Where a trace came from: the random walk and how it chose steps, or what minimized it. */
function runLine(trace: TraceFile): string | null {
  const parts: string[] = [];
  if (trace.seed !== null && trace.walk !== undefined) parts.push(`walk ${trace.walk} of seed ${trace.seed}`);
  const s = trace.schedule;
  if (s?.swarm) parts.push(`swarm mix ${Object.entries(s.swarm).map(([k, w]) => `${k}=${w}`).join(' ')}`);
  if (s?.pct) {
    const order = Object.entries(s.pct.priorities).sort((a, b) => b[1] - a[1]).map(([k]) => k);
    parts.push(`pct d=${s.pct.depth}: priorities ${order.join(' > ')}, change points at steps ${s.pct.changePoints.join(', ') || 'none'}`);
  }
  if (s?.strategy === 'fast-check') parts.push(`fast-check schedule after ${s.shrinks ?? 0} shrinks`);
  if (trace.minimized) parts.push(`minimized from ${trace.minimized.fromSteps} steps`);
  return parts.length ? `  (${parts.join('; ')})` : null;
}
