/** What changed between two consecutive worlds of a trace, for every renderer. */
import { eventText } from './event-text.ts';
import type { TraceFile, TraceStep } from './format.ts';

export interface Change {
  /** `rm2`, `tm.phase`, ... */
  path: string;
  before: unknown;
  after: unknown;
}

/** Changes in node states (field by field for objects) and crash flags. */
export function stateChanges(before: TraceStep['state'], after: TraceStep['state']): Change[] {
  const out: Change[] = [];
  after.nodes.forEach((n, i) => {
    const b = before.nodes[i];
    if (!b) return;
    if (b.crashed !== n.crashed) out.push({ path: `${n.name}.crashed`, before: b.crashed, after: n.crashed });
    diffValue(n.name, b.state, n.state, out);
  });
  if (before.time !== after.time) out.push({ path: 'time', before: before.time, after: after.time });
  return out;
}

function diffValue(path: string, a: unknown, b: unknown, out: Change[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (isRecord(a) && isRecord(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffValue(`${path}.${k}`, a[k], b[k], out);
    return;
  }
  out.push({ path, before: a, after: b });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Messages that appeared in flight (or whose count grew) with this step. */
export function sentMessages(before: TraceStep['state'], after: TraceStep['state']): TraceStep['state']['network'] {
  const count = new Map<string, number>();
  for (const e of before.network) count.set(key(e), e.count);
  return after.network.filter((e) => (count.get(key(e)) ?? 0) < e.count);
}

function key(e: { from: number; to: number; msg: unknown }): string {
  return `${e.from}>${e.to}:${JSON.stringify(e.msg)}`;
}

/** A compact rendering of a JSON value: strings bare, objects as `{a: 1}`. */
export function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '∅';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (isRecord(v)) {
    const entries = Object.entries(v);
    if ('kind' in v && entries.length === 1) return String(v.kind);
    if ('kind' in v) return `${String(v.kind)}(${entries.filter(([k]) => k !== 'kind').map(([k, x]) => `${k}: ${show(x)}`).join(', ')})`;
    return `{${entries.map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

/** A short description of a step's event, with node names (see event-text.ts). */
export function describeEvent(trace: TraceFile, step: TraceStep): string {
  const text = eventText(step.event, (id) => trace.nodes[id] ?? `node${id}`);
  if (step.event.kind !== 'drift') return text;
  // where the drifted clock now stands: what a TrueTime trace is read by
  const offset = (step.state as { clockOffsets?: readonly number[] }).clockOffsets?.[step.event.node as number];
  return offset === undefined ? text : `${text} (now ${offset > 0 ? '+' : ''}${offset} from true time)`;
}
