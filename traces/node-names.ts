/**
 * Node ids inside node states and messages, shown as node names: `prepared: [1, 3]` reads as
 * `prepared: [rm1, rm3]`. Trace files keep ids (the schema's JSON form, which replay needs);
 * this is for display, guided by the spec's schemas, which say which fields hold node ids.
 * A union variant's field schemas are not exposed by UnionSchema, so ids inside message
 * fields stay numbers.
 */
import { NodeSchema, UnionSchema, type Protocol, type Schema } from '../specs/core/index.ts';
import type { TraceFile } from './format.ts';

/** A copy of `trace` whose node states and messages name nodes instead of numbering them. */
export function withNodeNames(trace: TraceFile, protocol: Protocol): TraceFile {
  const names = trace.nodes;
  const name = (v: unknown, s: Schema<unknown> | undefined): unknown => rename(v, s, names);
  const msgs = protocol.messages as Schema<unknown>;
  return {
    ...trace,
    steps: trace.steps.map((step) => ({
      ...step,
      event: 'msg' in step.event ? { ...step.event, msg: name(step.event.msg, msgs) } : step.event,
      state: {
        ...step.state,
        nodes: step.state.nodes.map((n) => ({ ...n, state: name(n.state, protocol.roles[n.role]?.state as Schema<unknown> | undefined) })),
        network: step.state.network.map((e) => ({ ...e, msg: name(e.msg, msgs) })),
      },
    })),
  };
}

function rename(v: unknown, s: Schema<unknown> | undefined, names: string[]): unknown {
  if (!s || !s.hasNodes || v === null || v === undefined) return v;
  if (s instanceof NodeSchema) return typeof v === 'number' ? (names[v] ?? v) : v;
  if (s instanceof UnionSchema) return v;
  const inner = s as unknown as { inner?: Schema<unknown>; item?: Schema<unknown>; key?: Schema<unknown>; value?: Schema<unknown>; items?: Schema<unknown>[]; fields?: Record<string, Schema<unknown>> };
  if (s.name.startsWith('option<')) return rename(v, inner.inner, names);
  if ((s.name.startsWith('set<') || s.name.startsWith('array<')) && Array.isArray(v)) return v.map((x) => rename(x, inner.item, names));
  if (s.name.startsWith('map<') && Array.isArray(v)) return v.map((e) => [rename((e as unknown[])[0], inner.key, names), rename((e as unknown[])[1], inner.value, names)]);
  if (s.name.startsWith('[') && Array.isArray(v) && inner.items) return v.map((x, i) => rename(x, inner.items![i], names));
  if (inner.fields && typeof v === 'object' && !Array.isArray(v)) {
    const rec = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(rec).map(([k, x]) => [k, rename(x, inner.fields![k], names)]));
  }
  return v;
}
