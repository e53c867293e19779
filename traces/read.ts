/**
 * Reading trace files: parse the JSON and validate every field against the format (format.ts,
 * docs/trace-format.schema.json), so that replay, minimization and rendering can trust what
 * they get. Every failure is a {@link TraceError} naming where: the line and column of bad JSON,
 * "truncated" when the text stops early, the JSON path of a bad field (`steps[3].event.to`).
 * Whether the spec and variant named in the file exist is for the loader to say (cli/).
 */
import { TRACE_FORMAT, TRACE_VERSION, type TraceFile } from './format.ts';
import { MAX_NESTING, nestingPastLimit } from './nesting.ts';
import { DAMAGE_KINDS, type DamageKind } from '../specs/core/protocol.ts';

/** A trace file that cannot be used: the message says where and why. */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    message: string,
    /** JSON path of the offending field, when there is one. */
    readonly at?: string,
  ) {
    super(at ? `${at}: ${message}` : message);
  }
}

/** Event kinds a trace may contain, and the fields each one needs. */
const EVENT_FIELDS: Record<string, readonly string[]> = {
  init: [],
  deliver: ['from', 'to', 'msg'],
  duplicate: ['from', 'to', 'msg'],
  drop: ['from', 'to', 'msg'],
  action: ['node', 'action'],
  crash: ['node'],
  restart: ['node'],
  tick: [],
  drift: ['node', 'by'],
  invoke: ['node', 'to', 'op'],
};

/** The event kinds of the format. */
export const EVENT_KINDS: readonly string[] = Object.keys(EVENT_FIELDS);

/** Parses and validates a trace file's text. */
export function parseTrace(text: string): TraceFile {
  if (text.trim() === '') throw new TraceError('the file is empty (expected a pacta trace: JSON with "format": "pacta-trace")');
  const deep = nestingPastLimit(text);
  if (deep) throw new TraceError(`nested deeper than ${MAX_NESTING} levels at line ${deep.line} (pacta reads traces nested at most ${MAX_NESTING} deep)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw jsonError(text, (e as Error).message);
  }
  return validateTrace(json);
}

/** Validates a parsed trace; returns it typed. */
export function validateTrace(json: unknown): TraceFile {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TraceError(`not a pacta trace: expected a JSON object, got ${short(json)}`);
  const root = json as Record<string, unknown>;
  if (root.format !== TRACE_FORMAT) {
    throw new TraceError(
      root.format === undefined
        ? `not a pacta trace: no "format" field (expected "format": "${TRACE_FORMAT}")`
        : `not a pacta trace: "format" is ${short(root.format)}, expected "${TRACE_FORMAT}"`,
    );
  }
  if (typeof root.version !== 'number' || !Number.isInteger(root.version)) {
    throw new TraceError(`expected an integer format version, got ${short(root.version)}`, 'version');
  }
  if (root.version > TRACE_VERSION) {
    throw new TraceError(`the trace has format version ${root.version}, newer than this pacta reads (${TRACE_VERSION}); upgrade pacta`, 'version');
  }
  if (root.version !== 1 && root.version !== 2) throw new TraceError(`unsupported format version ${root.version} (this pacta reads versions 1 and ${TRACE_VERSION})`, 'version');

  str(root.spec, 'spec', true);
  if (root.specHash !== undefined && !(typeof root.specHash === 'string' && /^[0-9a-f]{16}$/.test(root.specHash))) {
    throw new TraceError(`expected 16 hex digits, got ${short(root.specHash)}`, 'specHash');
  }
  if (root.variant !== null) str(root.variant, 'variant', true);
  const params = object(root.params, 'params');
  for (const [k, v] of Object.entries(params)) {
    if (!['number', 'boolean', 'string'].includes(typeof v)) throw new TraceError(`expected a number, boolean or string, got ${short(v)}`, `params.${k}`);
  }
  traceOptions(object(root.options, 'options'));
  if (root.seed !== null) nat(root.seed, 'seed');
  if (!['violation', 'deadlock', 'error'].includes(root.result as string)) {
    throw new TraceError(`expected "violation", "deadlock" or "error", got ${short(root.result)}`, 'result');
  }
  if (root.property !== null) {
    const p = object(root.property, 'property');
    str(p.name, 'property.name', true);
    str(p.kind, 'property.kind', true);
  } else if (root.result === 'violation') {
    throw new TraceError('a violation trace must name the property it violates', 'property');
  }
  if (root.error !== undefined) str(root.error, 'error', false);
  if (root.walk !== undefined) nat(root.walk, 'walk');
  if (root.schedule !== undefined) str(object(root.schedule, 'schedule').strategy, 'schedule.strategy', true);
  if (root.minimized !== undefined) {
    const m = object(root.minimized, 'minimized');
    nat(m.fromSteps, 'minimized.fromSteps');
    if (typeof m.seconds !== 'number' || !(m.seconds >= 0)) throw new TraceError(`expected a number of seconds, got ${short(m.seconds)}`, 'minimized.seconds');
  }

  const nodes = array(root.nodes, 'nodes');
  if (nodes.length === 0) throw new TraceError('expected at least one node name', 'nodes');
  nodes.forEach((n, i) => str(n, `nodes[${i}]`, true));
  const steps = array(root.steps, 'steps');
  if (steps.length === 0) throw new TraceError('expected at least one step (the initial state)', 'steps');
  steps.forEach((s, i) => step(s, i, nodes.length));
  if (root.loopStart !== undefined) {
    if (root.version < 2) throw new TraceError('"loopStart" (a lasso) needs format version 2', 'loopStart');
    nat(root.loopStart, 'loopStart');
    if ((root.loopStart as number) >= steps.length) throw new TraceError(`"loopStart" is ${root.loopStart as number}, past the last step (${steps.length - 1})`, 'loopStart');
  }
  if (root.bounded !== undefined) {
    if (root.version < 2) throw new TraceError('"bounded" (a suspected liveness violation) needs format version 2', 'bounded');
    if (root.loopStart !== undefined) throw new TraceError('a trace is either a lasso ("loopStart") or a bounded walk ("bounded"), not both', 'bounded');
    const b = object(root.bounded, 'bounded');
    nat(b.steps, 'bounded.steps');
    if ((b.steps as number) >= steps.length) throw new TraceError(`"bounded.steps" is ${b.steps as number}, more than the trace's ${steps.length - 1} steps`, 'bounded.steps');
    if (typeof b.terminal !== 'boolean') throw new TraceError(`expected true or false, got ${short(b.terminal)}`, 'bounded.terminal');
  }
  return json as TraceFile;
}

/**
 * The options a trace may record (trace-builder's describeOptions, random mode's strategy) and
 * what each must be. Strict: an unknown option or value is an error, never a silent default (a
 * trace whose network is "quantum" must not be replayed under "set").
 */
const TRACE_OPTIONS: Record<string, { expect: string; ok: (v: unknown) => boolean }> = {
  mode: oneOf('bfs', 'dfs', 'random'),
  network: oneOf('set', 'bag', 'fifo'),
  strategy: oneOf('uniform', 'pct', 'fast-check'),
  drop: bool(),
  dup: bool(),
  symmetry: bool(),
  deadlock: bool(),
  swarm: bool(),
  crashes: natural(0),
  diskFaults: natural(0),
  clientRestarts: natural(0),
  maxTime: natural(0),
  trueTimeEpsilon: natural(0),
  clockError: natural(0),
  maxInFlight: natural(0),
  maxMessageBytes: { expect: 'an integer ≥ 1, or null (unchecked)', ok: (v) => v === null || (Number.isInteger(v) && (v as number) >= 1) },
  maxDepth: natural(1),
  pctDepth: natural(1),
};

function oneOf(...values: string[]): { expect: string; ok: (v: unknown) => boolean } {
  return { expect: values.map((x) => `"${x}"`).join(', '), ok: (v) => values.includes(v as string) };
}
function bool(): { expect: string; ok: (v: unknown) => boolean } {
  return { expect: 'true or false', ok: (v) => typeof v === 'boolean' };
}
function natural(min: number): { expect: string; ok: (v: unknown) => boolean } {
  return { expect: `an integer ≥ ${min}`, ok: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min };
}

function traceOptions(options: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(options)) {
    const rule = Object.hasOwn(TRACE_OPTIONS, k) ? TRACE_OPTIONS[k]! : undefined;
    if (!rule) throw new TraceError(`unknown option (a trace records ${Object.keys(TRACE_OPTIONS).join(', ')})`, `options.${k}`);
    if (!rule.ok(v)) throw new TraceError(`expected ${rule.expect}, got ${short(v)}`, `options.${k}`);
  }
}

function step(json: unknown, i: number, nodeCount: number): void {
  const at = `steps[${i}]`;
  const s = object(json, at);
  const e = object(s.event, `${at}.event`);
  const kind = e.kind;
  if (typeof kind !== 'string' || !(kind in EVENT_FIELDS)) {
    throw new TraceError(`unknown event kind ${short(kind)} (known: ${EVENT_KINDS.join(', ')})`, `${at}.event.kind`);
  }
  if (i === 0 && kind !== 'init') throw new TraceError(`the first step must be the initial state (kind "init"), got ${short(kind)}`, `${at}.event.kind`);
  if (i > 0 && kind === 'init') throw new TraceError('only the first step may be "init"', `${at}.event.kind`);
  for (const f of EVENT_FIELDS[kind]!) {
    if (!(f in e)) throw new TraceError(`a "${kind}" event needs "${f}"`, `${at}.event`);
    if (f === 'from' || f === 'to' || f === 'node') nodeId(e[f], `${at}.event.${f}`, nodeCount);
    if (f === 'action') str(e[f], `${at}.event.action`, true);
  }
  if (kind === 'crash' && e.lostWrite !== undefined) {
    const step = object(e.lostWrite, `${at}.event.lostWrite`);
    if (step.kind === 'deliver') {
      nodeId(step.from, `${at}.event.lostWrite.from`, nodeCount);
      nodeId(step.to, `${at}.event.lostWrite.to`, nodeCount);
      if (step.to !== e.node) throw new TraceError('a lost write\'s delivery must be to the crashing node', `${at}.event.lostWrite.to`);
      if (!('msg' in step)) throw new TraceError('a "deliver" step needs "msg"', `${at}.event.lostWrite`);
    } else if (step.kind === 'action') {
      nodeId(step.node, `${at}.event.lostWrite.node`, nodeCount);
      if (step.node !== e.node) throw new TraceError('a lost write\'s action must be the crashing node\'s', `${at}.event.lostWrite.node`);
      str(step.action, `${at}.event.lostWrite.action`, true);
    } else {
      throw new TraceError(`a lost write's step must be "deliver" or "action", got ${short(step.kind)}`, `${at}.event.lostWrite.kind`);
    }
  }
  if (kind === 'restart' && e.damage !== undefined && !DAMAGE_KINDS.includes(e.damage as DamageKind)) {
    throw new TraceError(`"damage" must be one of ${DAMAGE_KINDS.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(e.damage)}`, `${at}.event.damage`);
  }
  const st = object(s.state, `${at}.state`);
  nat(st.time, `${at}.state.time`);
  nat(st.crashes, `${at}.state.crashes`);
  const ns = array(st.nodes, `${at}.state.nodes`);
  if (ns.length !== nodeCount) throw new TraceError(`expected ${nodeCount} nodes (as "nodes" lists), got ${ns.length}`, `${at}.state.nodes`);
  ns.forEach((n, k) => {
    const p = `${at}.state.nodes[${k}]`;
    const node = object(n, p);
    if (node.id !== k) throw new TraceError(`expected id ${k}, got ${short(node.id)}`, `${p}.id`);
    str(node.name, `${p}.name`, true);
    str(node.role, `${p}.role`, true);
    if (typeof node.crashed !== 'boolean') throw new TraceError(`expected true or false, got ${short(node.crashed)}`, `${p}.crashed`);
    if (!('state' in node)) throw new TraceError('missing "state"', p);
  });
  array(st.network, `${at}.state.network`).forEach((m, k) => {
    const p = `${at}.state.network[${k}]`;
    const env = object(m, p);
    nodeId(env.from, `${p}.from`, nodeCount);
    nodeId(env.to, `${p}.to`, nodeCount);
    if (!('msg' in env)) throw new TraceError('missing "msg"', p);
    if (typeof env.count !== 'number' || !Number.isInteger(env.count) || env.count < 1) throw new TraceError(`expected a count ≥ 1, got ${short(env.count)}`, `${p}.count`);
  });
  if (typeof s.fingerprint !== 'string' || !/^[0-9a-f]{16}$/.test(s.fingerprint)) {
    throw new TraceError(`expected 16 lowercase hex digits, got ${short(s.fingerprint)}`, `${at}.fingerprint`);
  }
}

function object(v: unknown, at: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new TraceError(v === undefined ? 'missing (expected an object)' : `expected an object, got ${short(v)}`, at || undefined);
  }
  return v as Record<string, unknown>;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new TraceError(v === undefined ? 'missing (expected an array)' : `expected an array, got ${short(v)}`, at);
  return v;
}

function str(v: unknown, at: string, nonEmpty: boolean): void {
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw new TraceError(v === undefined ? 'missing (expected a string)' : `expected a${nonEmpty ? ' non-empty' : ''} string, got ${short(v)}`, at);
  }
}

function nat(v: unknown, at: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new TraceError(v === undefined ? 'missing (expected an integer ≥ 0)' : `expected an integer ≥ 0, got ${short(v)}`, at);
  }
}

function nodeId(v: unknown, at: string, nodeCount: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= nodeCount) {
    throw new TraceError(`expected a node id from 0 to ${nodeCount - 1}, got ${short(v)}`, at);
  }
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * Locates a JSON syntax error. V8's messages do not always carry a position, so on failure the
 * text is scanned again by a small recursive-descent checker that stops at the first error.
 */
function jsonError(text: string, fallback: string): TraceError {
  const found = scanJson(text);
  if (!found) return new TraceError(`malformed JSON: ${fallback}`);
  if (found.offset >= text.length) {
    const { line, column } = lineColumn(text, text.length);
    return new TraceError(`the file is truncated: its JSON stops at line ${line}, column ${column} before the document is complete`);
  }
  const { line, column } = lineColumn(text, found.offset);
  const ch = text[found.offset]!;
  return new TraceError(`malformed JSON at line ${line}, column ${column}: expected ${found.expected}, got ${JSON.stringify(ch)}`);
}

/** The offset and expectation of the first syntax error in `text`, or null if it is valid. */
function scanJson(text: string): { offset: number; expected: string } | null {
  let i = 0;
  class Stop {
    constructor(readonly expected: string) {}
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (expected: string): never => {
    throw new Stop(expected);
  };
  const lit = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    if (text[i] !== '"') fail('a string');
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('a closing quote (strings cannot span lines)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) ((i += k), fail('4 hex digits after \\u'));
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail('an escape character');
      }
      i++;
    }
    if (i >= text.length) fail('a closing quote');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('a value');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail("':' after a property name");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return lit('true');
    if (c === 'f') return lit('false');
    if (c === 'n') return lit('null');
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the document');
    return null;
  } catch (e) {
    if (e instanceof Stop) return { offset: i, expected: e.expected };
    throw e;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
