import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EdnFormSplitter, splitEdnForms, type EdnForm } from './edn-forms.ts';
import { HistoryFormatError } from './errors.ts';

/** Feeds `text` cut at `cuts` (offsets) and returns the forms, or the error's line and message. */
function chunked(text: string, cuts: number[]): EdnForm[] | string {
  const splitter = new EdnFormSplitter('f.edn');
  const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), text.length];
  try {
    const forms: EdnForm[] = [];
    for (let k = 1; k < at.length; k++) forms.push(...splitter.push(text.slice(at[k - 1], at[k])));
    return [...forms, ...splitter.end()];
  } catch (e) {
    if (e instanceof HistoryFormatError) return e.message;
    throw e;
  }
}
const whole = (text: string): EdnForm[] | string => chunked(text, []);

const samples = [
  '{:a 1}\n; comment\n{:b [1 2]\n :c "x}\\"\n"}\n{:d #{1 2} :e \\( :f #inst "2020"}',
  '[{:a 1}\n {:b #{2}}\n #_ {:c 3} {:d #inst "2020-01-01"}]\n; done\n',
  '#_ {:gone 1}\n{:kept :yes}  {:s "a\\\\"} (1 2) :kw sym 12',
  '{:a 1}\n{:b 2]',
  '[{:a 1}]\n{:after 2}',
  '{:a "unterminated}\n',
  '{:a [1 2 3}',
];

describe('EdnFormSplitter', () => {
  it('hands out the same forms (and errors) wherever the text is cut', () => {
    for (const text of samples) {
      const expected = whole(text);
      for (let i = 0; i <= text.length; i++) expect(chunked(text, [i]), `${JSON.stringify(text)} cut at ${i}`).toEqual(expected);
      fc.assert(
        fc.property(fc.array(fc.nat(text.length), { maxLength: 12 }), (cuts) => {
          expect(chunked(text, cuts)).toEqual(expected);
        }),
        { seed: 25, numRuns: 200 },
      );
    }
  });

  it('forms appear before the text ends, and a wrapping vector is never held whole', () => {
    const splitter = new EdnFormSplitter('f.edn');
    expect(splitter.push('[{:a 1}\n{:b')).toEqual([{ text: '{:a 1}', line: 1 }]);
    expect(splitter.push(' 2}\n')).toEqual([{ text: '{:b 2}', line: 2 }]);
    expect(splitter.push(']')).toEqual([]);
    expect(splitter.end()).toEqual([]);
  });

  it('refuses a form after the wrapping vector, and deep nesting, with the line', () => {
    expect(whole('[{:a 1}]\n{:after 2}')).toMatch(/^f\.edn:2: a form after the vector that wraps the history \(opened on line 1\)/);
    expect(whole(`{:a 1}\n${'['.repeat(1001)}${']'.repeat(1001)}`)).toBe('f.edn:2: nested deeper than 1000 levels (pacta reads EDN nested at most 1000 deep)');
    expect(splitEdnForms('{:a 1}\n[1 2]', 'f').map((f) => f.text)).toEqual(['{:a 1}', '[1 2]']);
  });
});
