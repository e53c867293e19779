/**
 * A trace as a Mermaid sequence diagram (renders on GitHub, in GitLab and in mermaid.live).
 * Participants are the nodes; a delivery is an arrow from sender to receiver labelled with the
 * step that sent the message; a step's state changes and sends are a note over its node;
 * crashes, drops and the violation are marked.
 *
 * Mermaid draws each arrow at one point in time, so a message's arrow sits at the step that
 * delivered it, and its label names the step that sent it ("sent at 1").
 */
import { show } from './diff.ts';
import type { TraceFile } from './format.ts';
import { timeline } from './timeline.ts';

/** Renders the Mermaid source of a trace's sequence diagram. */
export function toMermaid(trace: TraceFile): string {
  const t = timeline(trace);
  const p = (id: number) => `n${id}`;
  const lines = ['sequenceDiagram', `  title ${esc(`${t.title}: ${t.verdict}`)}`];
  t.nodes.forEach((name, id) => lines.push(`  participant ${p(id)} as ${esc(name)}`));
  const all = `${p(0)},${p(t.nodes.length - 1)}`;
  const arrowAt = new Map(t.arrows.map((a) => [a.at, a]));
  const loop = trace.loopStart;
  const last = trace.steps.length - 1;
  for (const s of t.steps) {
    if (loop !== undefined && loop < last && s.index === loop + 1) lines.push(`  loop ${esc(`forever: steps ${loop + 1}..${last}, back to the state of step ${loop}`)}`);
    const effects = [
      ...s.changes.filter((c) => c.path !== 'time').map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`),
      ...(s.sent.length ? [`sends ${s.sent.map((m) => `${m.msg} → ${t.nodes[m.to] ?? m.to}`).join(', ')}`] : []),
    ];
    if (s.index === 0) {
      const init = trace.steps[0]!.state.nodes.map((n) => `${n.name}=${show(n.state)}`).join(' ');
      lines.push(`  Note over ${all}: 0. initial state<br/>${esc(init)}`);
      continue;
    }
    const a = arrowAt.get(s.index);
    const head = `${s.index}.`;
    switch (s.kind) {
      case 'deliver':
      case 'duplicate':
        lines.push(`  ${p(a!.from)}->>${p(a!.to)}: ${esc(`${head} ${a!.msg}${a!.sentAt !== null ? ` (sent at ${a!.sentAt})` : ''}${s.kind === 'duplicate' ? ' (duplicated: stays in flight)' : ''}`)}`);
        if (effects.length) lines.push(`  Note over ${p(a!.to)}: ${esc(effects.join('<br/>'))}`);
        break;
      case 'drop':
        lines.push(`  ${p(a!.from)}--x${p(a!.to)}: ${esc(`${head} ${a!.msg} lost${a!.sentAt !== null ? ` (sent at ${a!.sentAt})` : ''}`)}`);
        break;
      case 'invoke':
        lines.push(`  ${p(a!.from)}->>${p(a!.to)}: ${esc(`${head} ${a!.msg}`)}`);
        break;
      case 'crash':
        // A lost-write crash (--disk-faults) names the step whose write the disk lost.
        lines.push(`  Note over ${p(s.node!)}: ${esc([/the disk loses that write/.test(s.text) ? `${head} ✗ ${s.text}` : `${head} ✗ crash`, ...effects].join('<br/>'))}`);
        break;
      case 'tick':
        lines.push(`  Note over ${all}: ${esc(`${head} clock tick (time ${trace.steps[s.index]!.state.time})`)}`);
        break;
      default: {
        const what = s.text.replace(/^[^:]*: /, '');
        lines.push(`  Note over ${s.node === null ? all : p(s.node)}: ${esc([`${head} ${what}`, ...effects].join('<br/>'))}`);
      }
    }
  }
  if (loop !== undefined && loop < last) lines.push('  end');
  if (loop !== undefined && loop === last) lines.push(`  Note over ${all}: ${esc(`↻ stays at step ${loop} forever (no fair step enabled)`)}`);
  if (trace.result !== 'deadlock') lines.push(`  Note over ${all}: ${esc(`✗ ${t.verdict}`)}`);
  else lines.push(`  Note over ${all}: ${esc(`■ ${t.verdict}`)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Escapes text for a Mermaid label: `;` ends a statement and `#` starts an entity in Mermaid's
 * grammar, so both become entity codes; `<br/>` (our line breaks) is kept.
 */
function esc(text: string): string {
  const codes: Record<string, string> = { '#': '#35;', ';': '#59;', '<': '#lt;', '>': '#gt;' };
  // One pass per piece (so entity codes are not escaped again), keeping our own line breaks.
  return text
    .split(/<br\/>|\n/)
    .map((piece) => piece.replace(/[#;<>]/g, (c) => codes[c]!))
    .join('<br/>');
}
