import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from './errors.ts';
import { streamJsonObject, type JsonPiece } from './json-stream.ts';

/** The pieces of `text` read in chunks cut at `cuts`, or the error's message. */
function read(text: string, cuts: number[] = []): JsonPiece[] | string {
  const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), text.length];
  const chunks = at.slice(1).map((end, k) => text.slice(at[k], end));
  try {
    return [...streamJsonObject(chunks, 'f.json', 'items', 'expected an object')];
  } catch (e) {
    if (e instanceof HistoryFormatError) return e.message;
    throw e;
  }
}

const doc = '{"format": "x", "n": -1.5e3,\n "items": [\n  {"a": [1, {"b": "}]\\"\\\\"}]},\n  2, "s", null, [[]]\n ],\n "tail": true}';
const broken = ['{"a": 1,\n "items": [1,\n 2,]}', '{"a": 1\n "b": 2}', '{"items": [1 2]}', '{"a": 1}\nx', '{"a": {"b": [}}', '{"a": "x\ny"}', '[1]', '{"items": [1, 2'];

describe('streamJsonObject', () => {
  it('hands out members and the array elements with their lines, as JSON.parse reads them', () => {
    const pieces = read(doc) as JsonPiece[];
    expect(pieces.map((p) => [p.kind, p.kind === 'member' ? p.key : p.index, p.line])).toEqual([
      ['member', 'format', 1], ['member', 'n', 1], ['member', 'items', 2],
      ['element', 0, 3], ['element', 1, 4], ['element', 2, 4], ['element', 3, 4], ['element', 4, 4], ['member', 'tail', 6],
    ]);
    const parsed = JSON.parse(doc) as { items: unknown[] };
    expect(pieces.filter((p) => p.kind === 'element').map((p) => p.value)).toEqual(parsed.items);
  });

  it('reads the same (and fails the same) wherever the text is cut', () => {
    for (const text of [doc, ...broken]) {
      const whole = read(text);
      for (let i = 0; i <= text.length; i++) expect(read(text, [i]), `${JSON.stringify(text)} cut at ${i}`).toEqual(whole);
      fc.assert(fc.property(fc.array(fc.nat(text.length), { maxLength: 10 }), (cuts) => void expect(read(text, cuts)).toEqual(whole)), { seed: 25, numRuns: 100 });
    }
  });

  it('names the line of structural and value errors, and refuses deep nesting', () => {
    expect(read(broken[0]!)).toBe("f.json:3: invalid JSON: expected a value, got ']'");
    expect(read(broken[1]!)).toBe("f.json:2: invalid JSON: expected ',' or '}' after a property value");
    expect(read(broken[3]!)).toBe('f.json:2: invalid JSON: unexpected text after the end of the object');
    expect(read(broken[4]!)).toMatch(/^f\.json:1: invalid JSON: /);
    expect(read(broken[6]!)).toBe('f.json:1: expected an object');
    expect(read(broken[7]!)).toBe('f.json:1: invalid JSON: unexpected end of the file (the object is not closed)');
    expect(read(`{"a": 1,\n "items": [${'['.repeat(1000)}${']'.repeat(1000)}]}`)).toBe('f.json:2: nested deeper than 1000 levels (pacta reads JSON nested at most 1000 deep)');
  });
});
