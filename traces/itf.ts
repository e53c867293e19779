/**
 * Export to the Informal Trace Format (ITF) of Apalache and Quint
 * (https://apalache-mc.org/docs/adr/015adr-trace.html), so a pacta counterexample can be read by
 * their tools (Quint's REPL and test harnesses, ITF viewers, model-based testing drivers).
 *
 * Variables: one per node, named after it (`tm`, `rm1`, ...), plus `time`, `crashes`, `crashed`
 * (the set of crashed nodes), `network` (the messages in flight: a set under the `set` network,
 * a map to copy counts under `bag`, a list under `fifo`), and `mbt::actionTaken` with the event
 * that led to the state (Quint's model-based-testing convention).
 *
 * Values follow the spec's schemas: integers as `{"#bigint": "…"}`, sets as `{"#set": […]}`,
 * maps as `{"#map": [[k, v], …]}`, tuples as `{"#tup": […]}`, structs as records, options and
 * tagged unions as Quint sum types `{"tag": …, "value": …}`, node ids as node names. Without the
 * protocol (or for a union variant's fields, whose schemas the union does not expose), values
 * are converted by their JSON shape: arrays become lists.
 */
import { NodeSchema, UnionSchema, type Protocol, type Schema } from '../specs/core/index.ts';
import { describeEvent } from './diff.ts';
import type { TraceFile } from './format.ts';

/** An ITF value. */
export type ItfValue = boolean | string | number | ItfValue[] | { [key: string]: ItfValue };

export interface ItfTrace {
  '#meta': Record<string, ItfValue>;
  vars: string[];
  states: Record<string, ItfValue>[];
}

const UNIT: ItfValue = { '#tup': [] };

/** Converts a trace to ITF; pass the protocol (the trace's variant) for schema-exact values. */
export function toItf(trace: TraceFile, protocol?: Protocol): ItfTrace {
  const names = trace.nodes;
  const conv = new Converter(names);
  const roleSchema = (role: string): Schema<unknown> | undefined => protocol?.roles[role]?.state as Schema<unknown> | undefined;
  const msgSchema = protocol?.messages as Schema<unknown> | undefined;
  const network = String(trace.options.network ?? 'set');
  const vars = ['time', 'crashes', 'crashed', 'network', ...names, 'mbt::actionTaken'];
  const states = trace.steps.map((step, index) => {
    const s = step.state;
    const out: Record<string, ItfValue> = {
      '#meta': { index },
      time: big(s.time),
      crashes: big(s.crashes),
      crashed: { '#set': s.nodes.filter((n) => n.crashed).map((n) => n.name) },
    };
    const envelope = (e: (typeof s.network)[number]): ItfValue => ({
      from: names[e.from] ?? String(e.from),
      to: names[e.to] ?? String(e.to),
      msg: conv.value(e.msg, msgSchema),
    });
    if (network === 'bag') out.network = { '#map': s.network.map((e) => [envelope(e), big(e.count)]) };
    else if (network === 'fifo') out.network = s.network.map(envelope);
    else out.network = { '#set': s.network.map(envelope) };
    for (const n of s.nodes) out[n.name] = conv.value(n.state, roleSchema(n.role));
    out['mbt::actionTaken'] = describeEvent(trace, step);
    return out;
  });
  const title = trace.variant ? `${trace.spec}:${trace.variant}` : trace.spec;
  return {
    '#meta': {
      format: 'ITF',
      'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
      source: title,
      description: `pacta trace: ${title} ${trace.result}${trace.property ? ` of "${trace.property.name}"` : ''}, ${trace.steps.length - 1} steps`,
      params: Object.fromEntries(Object.entries(trace.params).map(([k, v]) => [k, typeof v === 'number' ? big(v) : v])),
      ...(trace.seed !== null && { seed: big(trace.seed) }),
    },
    vars,
    states,
  };
}

function big(n: number): ItfValue {
  return { '#bigint': String(n) };
}

/** Schema-guided conversion of trace JSON (schema.toJSON output) to ITF values. */
class Converter {
  constructor(private readonly nodeNames: string[]) {}

  value(json: unknown, schema: Schema<unknown> | undefined): ItfValue {
    if (!schema) return this.untyped(json);
    const name = schema.name;
    if (schema instanceof NodeSchema) return typeof json === 'number' ? (this.nodeNames[json] ?? String(json)) : this.untyped(json);
    if (schema instanceof UnionSchema) {
      const rec = json as Record<string, unknown>;
      const fields = Object.entries(rec).filter(([k]) => k !== schema.tag);
      return { tag: String(rec[schema.tag]), value: fields.length ? Object.fromEntries(fields.map(([k, v]) => [k, this.untyped(v)])) : UNIT };
    }
    const inner = schema as unknown as { inner?: Schema<unknown>; item?: Schema<unknown>; key?: Schema<unknown>; value?: Schema<unknown>; items?: Schema<unknown>[]; fields?: Record<string, Schema<unknown>> };
    if (name.startsWith('option<')) return json === null ? { tag: 'None', value: UNIT } : { tag: 'Some', value: this.value(json, inner.inner) };
    if (name.startsWith('set<') && Array.isArray(json)) return { '#set': json.map((x) => this.value(x, inner.item)) };
    if (name.startsWith('array<') && Array.isArray(json)) return json.map((x) => this.value(x, inner.item));
    if (name.startsWith('map<') && Array.isArray(json)) {
      return { '#map': json.map((e) => [this.value((e as unknown[])[0], inner.key), this.value((e as unknown[])[1], inner.value)]) };
    }
    if (name.startsWith('[') && Array.isArray(json) && inner.items) return { '#tup': json.map((x, i) => this.value(x, inner.items![i])) };
    if (inner.fields && json !== null && typeof json === 'object' && !Array.isArray(json)) {
      const rec = json as Record<string, unknown>;
      return Object.fromEntries(Object.keys(inner.fields).map((k) => [k, this.value(rec[k] ?? null, inner.fields![k])]));
    }
    return this.untyped(json);
  }

  /** By JSON shape alone. */
  untyped(json: unknown): ItfValue {
    if (json === null || json === undefined) return { tag: 'None', value: UNIT };
    if (typeof json === 'number') return Number.isInteger(json) ? big(json) : String(json);
    if (typeof json === 'boolean' || typeof json === 'string') return json;
    if (Array.isArray(json)) return json.map((x) => this.untyped(x));
    return Object.fromEntries(Object.entries(json as Record<string, unknown>).map(([k, v]) => [k, this.untyped(v)]));
  }
}
