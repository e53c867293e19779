/**
 * Splits EDN text into its top-level forms, each with the line it starts on, and rejects
 * malformed text with a line-numbered error. edn-data (the parser we use for the forms
 * themselves) silently accepts unbalanced or odd input, so structure is checked here first.
 * A file that is one vector or list of forms (`[{...} {...}]`) is split into its elements.
 */
import { MAX_NESTING } from '../../traces/nesting.ts';
import { HistoryFormatError } from './errors.ts';

/** One top-level EDN form: its source text and 1-based starting line. */
export interface EdnForm {
  readonly text: string;
  readonly line: number;
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}', '#{': '}' };
const isSpace = (c: string): boolean => c === ' ' || c === ',' || c === '\t' || c === '\n' || c === '\r';
const isDelimiter = (c: string): boolean =>
  isSpace(c) || c === '(' || c === ')' || c === '[' || c === ']' || c === '{' || c === '}' || c === '"' || c === ';';

interface Open {
  readonly opener: string;
  readonly line: number;
  /** forms read so far at this level (maps need an even number) */
  forms: number;
  /** start offset of this collection (for the top-level wrapper split) */
  readonly start: number;
}

/** Splits `text` into top-level EDN forms; throws {@link HistoryFormatError} if unbalanced. */
export function splitEdnForms(text: string, file: string): EdnForm[] {
  const forms: { start: number; end: number; line: number }[] = [];
  /** element boundaries of the first level, used when the whole file is one collection */
  const inner: { start: number; end: number; line: number }[] = [];
  const stack: Open[] = [];
  /** `#_` discards waiting for the form they drop */
  let pendingPrefixes = 0;
  let line = 1;
  let formStart = -1;
  let formLine = 0;
  let innerStart = -1;
  let innerLine = 0;
  const bad = (at: number, detail: string): never => {
    throw new HistoryFormatError(file, at, detail);
  };

  const beginForm = (i: number): void => {
    if (stack.length === 0 && formStart < 0) {
      formStart = i;
      formLine = line;
    }
    if (stack.length === 1 && innerStart < 0) {
      innerStart = i;
      innerLine = line;
    }
  };
  const endForm = (end: number): void => {
    // A complete form at the current depth; a pending prefix swallows it.
    if (pendingPrefixes > 0) {
      pendingPrefixes--;
      return;
    }
    if (stack.length > 0) stack[stack.length - 1]!.forms++;
    if (stack.length === 0) {
      forms.push({ start: formStart, end, line: formLine });
      formStart = -1;
    } else if (stack.length === 1) {
      inner.push({ start: innerStart, end, line: innerLine });
      innerStart = -1;
    }
  };

  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    beginForm(i);
    if (c === '"') {
      const startLine = line;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        if (text[i] === '\n') line++;
        i++;
      }
      if (i >= text.length) bad(startLine, 'unterminated string');
      i++;
      endForm(i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{' || (c === '#' && text[i + 1] === '{')) {
      const opener = c === '#' ? '#{' : c;
      if (stack.length >= MAX_NESTING) bad(line, `nested deeper than ${MAX_NESTING} levels (pacta reads EDN nested at most ${MAX_NESTING} deep)`);
      stack.push({ opener, line, forms: 0, start: i });
      // a prefix applies to the collection as a whole, not to its elements
      (stack[stack.length - 1] as Open & { prefixes?: number }).prefixes = pendingPrefixes;
      pendingPrefixes = 0;
      i += opener.length;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (!open) bad(line, `unexpected "${c}" with nothing open`);
      if (CLOSER[open!.opener] !== c) {
        bad(line, `"${c}" closes "${open!.opener}" opened on line ${open!.line}`);
      }
      if (pendingPrefixes > 0) bad(line, `a #_ before "${c}" has no form to apply to`);
      if (open!.opener === '{' && open!.forms % 2 !== 0) {
        bad(open!.line, `map opened here has an odd number of forms (a key without a value)`);
      }
      pendingPrefixes = (open as Open & { prefixes?: number }).prefixes ?? 0;
      i++;
      endForm(i);
      continue;
    }
    if (c === '#' && text[i + 1] === '_') {
      pendingPrefixes++;
      i += 2;
      continue;
    }
    // an atom (keyword, number, symbol, nil, char, or a #tag prefix)
    let j = i + 1;
    if (c === '\\') j++; // a character literal may be a delimiter itself (\( or \space)
    while (j < text.length && !isDelimiter(text[j]!)) j++;
    const atom = text.slice(i, j);
    i = j;
    if (atom.startsWith('#')) {
      // a tag (#inst, #uuid): the tagged form that follows counts as one form
      if (atom.length === 1) bad(line, 'a lone "#"');
      continue;
    }
    endForm(i);
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1]!;
    bad(open.line, `"${open.opener}" opened here is never closed`);
  }
  if (pendingPrefixes > 0) bad(line, 'a #_ at the end of the text has no form to discard');

  // One wrapping vector or list: its elements are the forms.
  const only = forms.length === 1 ? forms[0]! : undefined;
  if (only && (text[only.start] === '[' || text[only.start] === '(')) {
    return inner.map((f) => ({ text: text.slice(f.start, f.end), line: f.line }));
  }
  return forms.map((f) => ({ text: text.slice(f.start, f.end), line: f.line }));
}
