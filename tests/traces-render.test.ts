/**
 * Renderings of a trace: text (one line per step with what changed), the Mermaid sequence
 * diagram (participants, arrows from the sending step, notes, escaping), ITF (Apalache/Quint
 * encodings), and `pacta show` writing each to a file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { checkSync } from '../checker/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import type { TraceFile } from '../traces/format.ts';
import { toItf } from '../traces/itf.ts';
import { toMermaid } from '../traces/mermaid.ts';
import { withNodeNames } from '../traces/node-names.ts';
import { formatTrace } from '../traces/text.ts';
import { timeline } from '../traces/timeline.ts';

const examples = join(import.meta.dirname, '..', 'traces', 'examples');
const read = (f: string) => JSON.parse(readFileSync(join(examples, f), 'utf8')) as TraceFile;
const abortAfterCommit = read('two-phase.abort-after-commit.json');
const volatile = read('two-phase.volatile-rm.json');

describe('rendering', () => {
  it('text: a header with the verdict and provenance, then one line per step with its changes and sends', () => {
    const text = formatTrace(abortAfterCommit).split('\n');
    expect(text[0]).toBe('two-phase:abort-after-commit violates "consistent: no RM committed while another aborted" after 10 steps');
    expect(text[1]).toMatch(/^ {2}\(walk \d+ of seed 1; minimized from \d+ steps\)$/);
    expect(text).toHaveLength(2 + 11);
    expect(text.find((l) => /^ +7 {2}tm: commit/.test(l))).toMatch(/tm\.phase: init → committed; sends commit → rm1, commit → rm2, commit → rm3/);
    expect(text[text.length - 1]).toMatch(/^✗ 10 {2}tm → rm\d: abort +rm\d: prepared → aborted$/);
  });

  it('timeline: each delivery is an arrow from the step that sent the message', () => {
    const t = timeline(abortAfterCommit);
    for (const a of t.arrows) {
      expect(a.sentAt).not.toBeNull();
      expect(a.sentAt!).toBeLessThan(a.at);
      const sender = t.steps[a.sentAt!]!;
      expect(sender.sent.some((m) => m.to === a.to && m.msg === a.msg)).toBe(true);
    }
    expect(t.arrows.map((a) => a.msg)).toEqual(['prepared', 'prepared', 'prepared', 'commit', 'abort']);
  });

  it('mermaid: participants, message arrows, notes for changes and crashes, the violation', () => {
    const m = toMermaid(volatile);
    const lines = m.trimEnd().split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines.filter((l) => l.startsWith('  participant '))).toEqual(['  participant n0 as tm', '  participant n1 as rm1', '  participant n2 as rm2', '  participant n3 as rm3']);
    expect(m).toMatch(/ {2}n\d->>n0: \d+\. prepared \(sent at \d+\)/);
    expect(m).toMatch(/Note over n\d: \d+\. ✗ crash<br\/>rm\d\.crashed: false → true<br\/>rm\d: prepared → working/);
    expect(lines[lines.length - 1]).toBe('  Note over n0,n3: ✗ violates "consistent: no RM committed while another aborted" after 11 steps');
    // Every line is a statement Mermaid's sequence grammar knows.
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {2}(title |participant |Note over |n\d+(->>|--x)n\d+: )/);
  });

  it('mermaid: label text cannot break the grammar (; and # become entities)', () => {
    const trace = structuredClone(abortAfterCommit);
    trace.property = { name: 'x; y #1 <z>', kind: 'invariant' };
    const m = toMermaid(trace);
    expect(m).toContain('x#59; y #35;1 #lt;z#gt;');
    expect(m).not.toMatch(/x; y/);
  });

  it('itf: vars, one state per step, #bigint / #set / sum types, node names', () => {
    const itf = toItf(abortAfterCommit, twoPhase.variant('abort-after-commit'));
    expect(itf['#meta']).toMatchObject({ format: 'ITF', source: 'two-phase:abort-after-commit' });
    expect(itf.vars).toEqual(['time', 'crashes', 'crashed', 'network', 'tm', 'rm1', 'rm2', 'rm3', 'mbt::actionTaken']);
    expect(itf.states).toHaveLength(11);
    const last = itf.states[10]!;
    expect(last['#meta']).toEqual({ index: 10 });
    expect(last.time).toEqual({ '#bigint': '0' });
    expect(last.tm).toEqual({ phase: 'aborted', prepared: { '#set': ['rm1', 'rm2', 'rm3'] } });
    expect(last.crashed).toEqual({ '#set': [] });
    const net = (last.network as { '#set': { from: string; to: string; msg: unknown }[] })['#set'];
    expect(net).toContainEqual({ from: 'tm', to: 'rm1', msg: { tag: 'abort', value: { '#tup': [] } } });
    expect(net).toContainEqual({ from: 'rm2', to: 'tm', msg: { tag: 'prepared', value: { '#tup': [] } } });
    for (const s of itf.states) for (const v of itf.vars) expect(s).toHaveProperty([v]);
  });

  it('itf: a bag network is a map to copy counts; without the spec, values go by JSON shape', () => {
    const r = checkSync(twoPhase.variant('commit-early'), { network: 'bag', dup: true });
    const trace = r.result === 'violation' ? r.trace! : null!;
    const itf = toItf(trace);
    const net = itf.states[2]!.network as { '#map': [unknown, unknown][] };
    expect(Array.isArray(net['#map'])).toBe(true);
    for (const [, count] of net['#map']) expect(count).toMatchObject({ '#bigint': expect.stringMatching(/^\d+$/) });
    expect(itf.states[1]!.tm).toEqual({ phase: 'committed', prepared: [] });
  });

  it('pacta show names the nodes held in states (the spec knows which fields are node ids)', async () => {
    const io = memoryIO();
    expect(await main(['show', join(examples, 'two-phase.abort-after-commit.json')], io)).toBe(0);
    expect(io.stdout).toMatch(/tm\.prepared: \[rm\d, rm\d\] → \[rm1, rm2, rm3\]/);
    // The API keeps ids unless asked: trace files hold the schema's JSON form.
    expect(formatTrace(abortAfterCommit)).toMatch(/tm\.prepared: \[\d, \d\] → \[1, 2, 3\]/);
    const named = withNodeNames(abortAfterCommit, twoPhase.variant('abort-after-commit'));
    expect(named.steps.at(-1)!.state.nodes[0]!.state).toEqual({ phase: 'aborted', prepared: ['rm1', 'rm2', 'rm3'] });
  });

  it('pacta show writes every format to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pacta-show-'));
    const trace = join(examples, 'two-phase.commit-early.json');
    for (const format of ['text', 'mermaid', 'html', 'itf']) {
      const io = memoryIO(dir);
      const out = `out.${format}`;
      expect(await main(['show', trace, '--format', format, '-o', out], io)).toBe(0);
      const written = readFileSync(join(dir, out), 'utf8');
      if (format === 'text') expect(written).toMatch(/^two-phase:commit-early violates/);
      if (format === 'mermaid') expect(written).toMatch(/^sequenceDiagram\n/);
      if (format === 'html') expect(written).toMatch(/^<!doctype html>[\s\S]*<script id="trace-data" type="application\/json">/);
      if (format === 'itf') expect(JSON.parse(written).vars).toContain('tm');
    }
    const io = memoryIO(dir);
    expect(await main(['show', trace], io)).toBe(0);
    expect(io.stdout).toMatch(/^two-phase:commit-early violates/);
  });
});
