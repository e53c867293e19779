/**
 * Bad trace files are bad input: `pacta show | replay | minimize` exit 2 with a message that
 * says where (line and column of malformed JSON, "truncated", the JSON path of a bad field,
 * the version) and never a stack trace.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { parseTrace, TraceError } from '../traces/read.ts';

const example = readFileSync(join(import.meta.dirname, '..', 'traces', 'examples', 'two-phase.commit-early.json'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'pacta-read-'));

function file(text: string): string {
  const path = join(scratch, `t-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return path;
}

async function pacta(...args: string[]) {
  const io = memoryIO(scratch);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** Line and column (1-based) of the first occurrence of `needle` in `text`. */
function where(text: string, needle: string): string {
  const at = text.indexOf(needle);
  const before = text.slice(0, at).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

describe('reading trace files', () => {
  const bad: [string, string, RegExp][] = [
    ['empty', '', /the file is empty/],
    ['truncated', example.slice(0, Math.floor(example.length / 2)), /the file is truncated: its JSON stops at line \d+, column \d+/],
    ['malformed (a bare word)', example.replace('"result": "violation"', '"result": violation'), new RegExp(`malformed JSON at ${where(example, '"result": "violation"').replace(/column (\d+)/, (_, c) => `column ${Number(c) + 10}`)}: expected a value, got "v"`)],
    ['malformed (trailing comma)', example.replace('"variant": "commit-early",', '"variant": "commit-early",,'), /malformed JSON at line 5, column 28: expected a string, got ","/],
    ['not a trace', '{"hello": 1}', /not a pacta trace: no "format" field/],
    ['another format', '{"format": "itf"}', /not a pacta trace: "format" is "itf", expected "pacta-trace"/],
    ['newer version', example.replace('"version": 1', '"version": 3'), /format version 3, newer than this pacta reads \(2\); upgrade pacta/],
    ['older version', example.replace('"version": 1', '"version": 0'), /unsupported format version 0/],
    ['an array', '[1, 2]', /not a pacta trace: expected a JSON object, got \[1,2\]/],
  ];
  for (const [what, text, message] of bad) {
    it(`${what}: exit 2 with a precise message, for show, replay and minimize`, async () => {
      const path = file(text);
      for (const command of ['show', 'replay', 'minimize']) {
        const r = await pacta(command, path);
        expect(r.code, command).toBe(2);
        expect(r.err, command).toMatch(message);
        expect(r.err, command).toContain(path);
        expect(r.err, command).not.toMatch(/\n\s+at /);
      }
    });
  }

  it('a bad field is named by its JSON path', () => {
    const t = JSON.parse(example);
    const cases: [(t: any) => void, string][] = [
      [(x) => (x.steps[2].event.to = 7), 'steps[2].event.to: expected a node id from 0 to 3, got 7'],
      [(x) => delete x.steps[1].event.action, 'steps[1].event: a "action" event needs "action"'],
      [(x) => (x.steps[0].event.kind = 'tick'), 'steps[0].event.kind: the first step must be the initial state (kind "init"), got "tick"'],
      [(x) => (x.steps[1].state.nodes = []), 'steps[1].state.nodes: expected 4 nodes (as "nodes" lists), got 0'],
      [(x) => (x.steps[3].fingerprint = 'ABC'), 'steps[3].fingerprint: expected 16 lowercase hex digits, got "ABC"'],
      [(x) => (x.property = null), 'property: a violation trace must name the property it violates'],
      [(x) => (x.params.rms = [3]), 'params.rms: expected a number, boolean or string, got [3]'],
      [(x) => delete x.spec, 'spec: missing (expected a string)'],
    ];
    for (const [edit, message] of cases) {
      const copy = structuredClone(t);
      edit(copy);
      expect(() => parseTrace(JSON.stringify(copy))).toThrow(TraceError);
      expect(() => parseTrace(JSON.stringify(copy))).toThrow(message);
    }
  });

  it('missing files and unknown options are usage errors', async () => {
    expect(await pacta('replay', join(scratch, 'nope.json'))).toMatchObject({ code: 2, err: expect.stringMatching(/trace file not found/) });
    expect(await pacta('show', file(example), '--format', 'pdf')).toMatchObject({ code: 2, err: expect.stringMatching(/--format must be one of text, mermaid, html, itf, got 'pdf'/) });
    expect(await pacta('minimize', file(example), '--frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--frobnicate'/) });
    expect(await pacta('replay')).toMatchObject({ code: 2, err: expect.stringMatching(/expected one trace file, got none/) });
  });
});
