/**
 * docs/trace-format.schema.json describes what the checker writes: every trace produced here —
 * BFS, DFS, each random strategy, faults, crashes, clocks, deadlocks, spec errors, minimized and
 * the checked-in examples — validates against it, with a small JSON Schema validator
 * (tests/json-schema.ts), and the reader (traces/read.ts) accepts them too. Broken traces fail both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../checker/index.ts';
import { minimizeTrace } from '../checker/minimize.ts';
import { modelForTrace } from '../checker/replay.ts';
import { invariant, protocol, t, type Protocol } from '../specs/core/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import type { TraceFile } from '../traces/format.ts';
import { validateTrace } from '../traces/read.ts';
import { validateJson } from './json-schema.ts';

const root = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(root, 'docs', 'trace-format.schema.json'), 'utf8')) as Schema;

type Schema = Record<string, unknown>;
const validate = (v: unknown, s: Schema): string[] => validateJson(v, s);

/** A spec whose handler throws on its second step (an error trace). */
const thrower: Protocol = protocol({ name: 'thrower', params: {}, messages: t.union('kind', { ping: { n: t.u32 } }) }).define({
  roles: {
    a: { count: 1, state: t.u32, init: () => 0, actions: { go: { do: (s: number, out) => (out.send(1, { kind: 'ping', n: s }), s + 1) } } },
    b: { count: 1, state: t.u32, init: () => 0, onMessage: (s: number) => { if (s > 0) throw new Error('boom'); return s + 1; } },
  },
  properties: () => [invariant('a below 100', (w) => w.node(0) < 100)],
});

/** A spec with one step to take, after which nothing is enabled (a deadlock trace). */
const stopper: Protocol = protocol({ name: 'stopper', params: {}, messages: t.union('kind', { none: {} }) }).define({
  roles: { n: { count: 1, state: t.bool, init: () => false, actions: { stop: { when: (s: boolean) => !s, do: () => true } } } },
});

function traceOf(spec: Protocol, options: CheckOptions): TraceFile {
  const r = checkSync(spec, options);
  if (!('trace' in r) || !r.trace) throw new Error(`no trace: ${r.result}`);
  return r.trace;
}

describe('trace format schema', () => {
  const v = (name: string) => twoPhase.variant(name);
  const cases: [string, () => TraceFile][] = [
    ['bfs violation', () => traceOf(v('commit-early'), {})],
    ['dfs violation', () => traceOf(v('abort-after-commit'), { mode: 'dfs' })],
    ['random, uniform', () => traceOf(v('commit-early'), { mode: 'random', seed: 3 })],
    ['random, pct + swarm, crashes', () => traceOf(v('volatile-rm'), { mode: 'random', strategy: 'pct', swarm: true, crashes: 1, seed: 2, walks: 20_000 })],
    ['random, fast-check', () => traceOf(v('commit-early'), { mode: 'random', strategy: 'fast-check', seed: 1 })],
    ['bag network with drops, dups and a clock', () => traceOf(v('rm-ignores-abort'), { network: 'bag', drop: true, dup: true, maxTime: 2 })],
    ['fifo network', () => traceOf(v('commit-early'), { network: 'fifo' })],
    ['deadlock', () => traceOf(stopper, { deadlock: true })],
    ['spec error', () => traceOf(thrower, {})],
    ['minimized', () => {
      const long = traceOf(v('abort-after-commit'), { mode: 'random', seed: 1, maxTime: 10, swarm: true });
      return minimizeTrace(modelForTrace(v('abort-after-commit'), long), long).trace;
    }],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the trace validates against the schema and the reader`, () => {
      const trace = JSON.parse(JSON.stringify(make())) as TraceFile;
      expect(validate(trace, schema)).toEqual([]);
      expect(() => validateTrace(trace)).not.toThrow();
    });
  }

  it('the checked-in examples validate', () => {
    const dir = join(root, 'traces', 'examples');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      expect(validate(JSON.parse(readFileSync(join(dir, f), 'utf8')), schema), f).toEqual([]);
    }
  });

  it('broken traces fail the schema and the reader alike', () => {
    const good = JSON.parse(JSON.stringify(traceOf(v('commit-early'), {}))) as TraceFile;
    const broken: [string, (t: any) => void][] = [
      ['wrong format', (t) => (t.format = 'tla-trace')],
      ['wrong version', (t) => (t.version = 3)],
      ['no steps', (t) => (t.steps = [])],
      ['bad fingerprint', (t) => (t.steps[1].fingerprint = 'xyz')],
      ['unknown event kind', (t) => (t.steps[1].event = { kind: 'teleport' })],
      ['event missing a field', (t) => delete t.steps[2].event.to],
      ['negative time', (t) => (t.steps[1].state.time = -1)],
      ['bad result', (t) => (t.result = 'maybe')],
    ];
    for (const [what, edit] of broken) {
      const t = structuredClone(good);
      edit(t);
      expect(validate(t, schema).length, what).toBeGreaterThan(0);
      expect(() => validateTrace(t), what).toThrow();
    }
  });
});
