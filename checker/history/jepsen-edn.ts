/**
 * Reader for Jepsen histories in EDN: one operation map per form (Jepsen's `history.edn`, the
 * kv histories of Porcupine's test data), e.g.
 * `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`.
 *
 * Pairing follows Knossos / Jepsen semantics: an `:ok` completion gives the result; a `:fail`
 * means the operation certainly did not happen (it is dropped); an `:info` completion, or no
 * completion at all, leaves the outcome unknown (return +Infinity). Operations whose process is
 * not an integer or string (e.g. `:nemesis` events) are not client operations and are skipped.
 * Times are event positions: the file's order is the real-time order.
 */
import { createRequire } from 'node:module';
import type * as EdnData from 'edn-data';
import { splitEdnForms, type EdnForm } from './edn-forms.ts';
import { HistoryFormatError } from './errors.ts';
import type { History, Operation, ProcessId } from './history.ts';
import { inexactInteger, type Decoded, type KvInput, type KvOutput, type RegisterInput, type RegisterOutput } from './operations.ts';

/** One event of a Jepsen history, as read (keywords become strings without the colon). */
export interface JepsenEvent {
  /** 1-based line where the event's form starts */
  readonly line: number;
  readonly process: ProcessId;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: string;
  /** the `:key` field when present (Porcupine's kv histories) */
  readonly key?: unknown;
  readonly value: unknown;
  /** Every field of the event's map (keywords as strings), for workload-specific fields. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** edn-data (its CommonJS build) loads with the first EDN form parsed: `pacta check` never loads it. */
let ednData: typeof EdnData | undefined;

const TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

/**
 * Parses one well-formed EDN form (checked by {@link splitEdnForms}) with edn-data into plain
 * data: keywords and symbols as strings, maps as objects, lists and sets as arrays.
 */
export function parseEdnForm(text: string): unknown {
  ednData ??= createRequire(import.meta.url)('edn-data') as typeof EdnData;
  return ednData.parseEDNString(text, { mapAs: 'object', keywordAs: 'string', listAs: 'array', setAs: 'array', symbolAs: 'string', charAs: 'string' });
}

/**
 * The event of one form of a Jepsen EDN history, or undefined for a non-client event
 * (`:process :nemesis`). `fastValue`, when given, reads the form first (its undefined means
 * "use the general reader"). Throws {@link HistoryFormatError} naming the form's line when the
 * form is not an operation map.
 */
export function parseJepsenForm(form: EdnForm, file = '<edn>', fastValue?: (text: string) => unknown): JepsenEvent | undefined {
  const bad = (detail: string): never => {
    throw new HistoryFormatError(file, form.line, detail);
  };
  let value = fastValue?.(form.text);
  if (value === undefined) {
    try {
      value = parseEdnForm(form.text);
    } catch (e) {
      bad(`invalid EDN: ${(e as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    bad(`expected an operation map like {:process 0, :type :invoke, :f :read, :value nil}, got ${form.text.slice(0, 80)}`);
  }
  const op = value as Record<string, unknown>;
  if (!TYPES.has(op.type as string)) bad(`:type must be :invoke, :ok, :fail or :info, got ${JSON.stringify(op.type)}`);
  if (typeof op.f !== 'string') bad(`:f must be a keyword, got ${JSON.stringify(op.f)}`);
  const process = op.process;
  if (typeof process !== 'number' && typeof process !== 'string') {
    bad(`:process must be an integer, got ${JSON.stringify(process)}`);
  }
  if (typeof process === 'string') return undefined; // :nemesis and other non-client processes
  if (!Number.isInteger(process)) bad(`:process must be an integer, got ${String(process)}`);
  return {
    line: form.line,
    process: process as number,
    type: op.type as JepsenEvent['type'],
    f: op.f as string,
    ...('key' in op ? { key: op.key } : {}),
    value: op.value ?? null,
    fields: op,
  };
}

/**
 * Reads the events of a Jepsen EDN history. Throws {@link HistoryFormatError} naming the line
 * of a form that is not an operation map.
 */
export function parseJepsenEvents(text: string, file = '<edn>'): JepsenEvent[] {
  const events: JepsenEvent[] = [];
  for (const form of splitEdnForms(text, file)) {
    const event = parseJepsenForm(form, file);
    if (event) events.push(event);
  }
  return events;
}

/** Turns Jepsen events of one kind of object into a model's inputs and outputs. */
export interface JepsenDecoder<I, O> {
  /** the input of an invocation event */
  input(invoke: JepsenEvent): Decoded<I>;
  /** the output of an `:ok` completion of an operation with this input */
  output(input: I, ok: JepsenEvent): Decoded<O>;
}

/**
 * Pairs invocations with completions (per process) and decodes them into a typed history,
 * with Knossos semantics for `:fail` and `:info`.
 */
export function pairJepsenEvents<I, O>(events: readonly JepsenEvent[], decoder: JepsenDecoder<I, O>, file = '<edn>'): History<I, O> {
  interface Draft {
    process: ProcessId;
    f: string;
    input: I;
    output: O | undefined;
    call: number;
    return: number;
    callLine: number;
    returnLine?: number;
    failed: boolean;
  }
  const drafts: Draft[] = [];
  const pending = new Map<ProcessId, Draft>();
  let time = 0;
  for (const ev of events) {
    const now = time++;
    const bad = (detail: string): never => {
      throw new HistoryFormatError(file, ev.line, detail);
    };
    if (ev.type === 'invoke') {
      const busy = pending.get(ev.process);
      if (busy) bad(`process ${String(ev.process)} invokes :${ev.f} while its :${busy.f} from line ${busy.callLine} is still pending`);
      const input = decoder.input(ev);
      if (!input.ok) bad(input.error);
      const draft: Draft = {
        process: ev.process,
        f: ev.f,
        input: (input as { value: I }).value,
        output: undefined,
        call: now,
        return: Number.POSITIVE_INFINITY,
        callLine: ev.line,
        failed: false,
      };
      drafts.push(draft);
      pending.set(ev.process, draft);
      continue;
    }
    const draft = pending.get(ev.process);
    if (!draft) bad(`process ${String(ev.process)} completes :${ev.f} but has no pending invocation`);
    pending.delete(ev.process);
    draft!.returnLine = ev.line;
    if (ev.type === 'ok') {
      const output = decoder.output(draft!.input, ev);
      if (!output.ok) bad(output.error);
      draft!.output = (output as { value: O }).value;
      draft!.return = now;
    } else if (ev.type === 'fail') {
      draft!.failed = true;
    }
    // :info: the outcome stays unknown and the operation never returns
  }
  const operations: Operation<I, O>[] = [];
  for (const d of drafts) {
    if (d.failed) continue;
    operations.push({
      id: operations.length,
      process: d.process,
      input: d.input,
      output: d.output,
      call: d.call,
      return: d.return,
      source: d.returnLine === undefined ? { callLine: d.callLine } : { callLine: d.callLine, returnLine: d.returnLine },
    });
  }
  return { operations, file };
}

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
const isValue = (v: unknown): v is number | string => (typeof v === 'number' && Number.isFinite(v) && !inexactInteger(v)) || typeof v === 'string';
/** EDN integers past 2^53 are read rounded (edn-data gives doubles): refused rather than compared wrongly. */
const inexact = (v: unknown): string => `${String(v)} is an integer beyond ±(2^53 - 1), which this reader gets rounded: it cannot be compared exactly (write it as a string)`;

/** Jepsen's cas-register: `:read nil`, `:write v`, `:cas [from to]`. */
export const jepsenRegisterDecoder: JepsenDecoder<RegisterInput, RegisterOutput> = {
  input(ev) {
    switch (ev.f) {
      case 'read':
        return { ok: true, value: { f: 'read' } };
      case 'write':
        if (inexactInteger(ev.value)) return fail(inexact(ev.value));
        return isValue(ev.value) ? { ok: true, value: { f: 'write', value: ev.value } } : fail(`:write needs a number or string :value, got ${JSON.stringify(ev.value)}`);
      case 'cas': {
        const v = ev.value;
        if (Array.isArray(v) && (inexactInteger(v[0]) || inexactInteger(v[1]))) return fail(inexact(inexactInteger(v[0]) ? v[0] : v[1]));
        return Array.isArray(v) && v.length === 2 && isValue(v[0]) && isValue(v[1])
          ? { ok: true, value: { f: 'cas', from: v[0], to: v[1] } }
          : fail(`:cas needs :value [from to], got ${JSON.stringify(v)}`);
      }
      default:
        return fail(`register operations are :read, :write and :cas; got :${ev.f}`);
    }
  },
  output(input, ev) {
    if (ev.f !== input.f) return fail(`completion :${ev.f} does not match invocation :${input.f}`);
    if (input.f === 'read') {
      if (inexactInteger(ev.value)) return fail(inexact(ev.value));
      return ev.value === null || isValue(ev.value) ? { ok: true, value: ev.value } : fail(`a :read returns nil, a number or a string, got ${JSON.stringify(ev.value)}`);
    }
    return { ok: true, value: input.f === 'cas' ? true : null };
  },
};

/** Porcupine's kv histories: `:get`, `:put`, `:append` with a `:key`; plus `:cas [from to]`. */
export const jepsenKvDecoder: JepsenDecoder<KvInput, KvOutput> = {
  input(ev) {
    if (typeof ev.key !== 'string' && typeof ev.key !== 'number') return fail(`kv operations need a string :key, got ${JSON.stringify(ev.key)}`);
    const key = String(ev.key);
    switch (ev.f) {
      case 'get':
        return { ok: true, value: { f: 'get', key } };
      case 'put':
      case 'append':
        return typeof ev.value === 'string' ? { ok: true, value: { f: ev.f, key, value: ev.value } } : fail(`:${ev.f} needs a string :value, got ${JSON.stringify(ev.value)}`);
      case 'cas': {
        const v = ev.value;
        return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string'
          ? { ok: true, value: { f: 'cas', key, from: v[0], to: v[1] } }
          : fail(`:cas needs :value ["from" "to"], got ${JSON.stringify(v)}`);
      }
      default:
        return fail(`kv operations are :get, :put, :append and :cas; got :${ev.f}`);
    }
  },
  output(input, ev) {
    if (ev.f !== input.f) return fail(`completion :${ev.f} does not match invocation :${input.f}`);
    if (input.f === 'get') {
      // a missing key reads as "" (Porcupine's kv model); nil is accepted for it
      return ev.value === null || typeof ev.value === 'string' ? { ok: true, value: ev.value ?? '' } : fail(`a :get returns a string, got ${JSON.stringify(ev.value)}`);
    }
    return { ok: true, value: input.f === 'cas' ? true : null };
  },
};

/** Reads a Jepsen EDN history of register operations. */
export function parseEdnRegisterHistory(text: string, file = '<edn>'): History<RegisterInput, RegisterOutput> {
  return pairJepsenEvents(parseJepsenEvents(text, file), jepsenRegisterDecoder, file);
}

/** Reads a Jepsen EDN history of kv operations (Porcupine's `kv/*.txt`). */
export function parseEdnKvHistory(text: string, file = '<edn>'): History<KvInput, KvOutput> {
  return pairJepsenEvents(parseJepsenEvents(text, file), jepsenKvDecoder, file);
}
