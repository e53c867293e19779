/**
 * Reading a JSON document of the shape `{"k": v, ..., "items": [e, e, ...]}` as its text
 * arrives in chunks: each member's value and each element of the one array member named by the
 * caller are parsed (`JSON.parse`, exact) and handed out as soon as they are complete, with the
 * line each starts on. Memory holds one chunk and the value in progress, never the document's
 * text, so a history of a million transactions is read in the memory of its transactions.
 *
 * The structure around the values (the braces, keys, colons and commas of the top object and of
 * the array) is checked here, with errors naming the line; the values themselves are checked by
 * `JSON.parse`, whose errors are given the value's line too. Nesting past {@link MAX_NESTING} is
 * refused as everywhere else.
 */
import { MAX_NESTING } from '../../traces/nesting.ts';
import { HistoryFormatError } from './errors.ts';

/** What the reader hands out: a member's value, or one element of the streamed array. */
export type JsonPiece =
  | { readonly kind: 'member'; readonly key: string; readonly value: unknown; readonly line: number; readonly text: string }
  | { readonly kind: 'element'; readonly index: number; readonly value: unknown; readonly line: number; readonly text: string };

/** `JSON.parse(text)`; a syntax error names the line in the file (`text` starts on `firstLine`). */
export function parseJsonAt(text: string, file: string, firstLine = 1): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    let line = firstLine;
    const end = at ? Math.min(Number(at[1]), text.length) : text.length;
    for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
    throw new HistoryFormatError(file, line, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/, '')}`);
  }
}

const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === NL || c === 13;

/** Where the reader is in the top object or the streamed array (values inside are not parsed here). */
type Expect = 'root' | 'key-or-close' | 'key' | 'colon' | 'value' | 'comma-or-close' | 'element-or-close' | 'element' | 'element-comma-or-close' | 'end';

/**
 * Reads the JSON object in `chunks`, handing out each member (and each element of the member
 * named `arrayKey` when its value is an array, instead of the array itself) in the file's order.
 */
export function* streamJsonObject(chunks: Iterable<string>, file: string, arrayKey: string, notAnObject: string): Generator<JsonPiece> {
  let expect: Expect = 'root';
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** the value (or key) in progress: its start in buf, its line, the depth it opened at */
  let start = -1;
  let startLine = 0;
  let scalar = false;
  let isKey = false;
  let key = '';
  let index = 0;
  let inArray = false;
  let buf = '';
  const bad = (at: number, detail: string): never => {
    throw new HistoryFormatError(file, at, detail);
  };
  /** The depth of the values handed out: 1 (members) or 2 (the array's elements). */
  const valueDepth = (): number => (inArray ? 2 : 1);

  function* finish(end: number): Generator<JsonPiece> {
    const text = buf.slice(start, end);
    start = -1;
    if (isKey) {
      key = parseJsonAt(text, file, startLine) as string;
      isKey = false;
      expect = 'colon';
      return;
    }
    const value = parseJsonAt(text, file, startLine);
    if (inArray) {
      yield { kind: 'element', index: index++, value, line: startLine, text };
      expect = 'element-comma-or-close';
    } else {
      yield { kind: 'member', key, value, line: startLine, text };
      expect = 'comma-or-close';
    }
  }

  /** chunks waiting while a long value is carried (scanned together: copies stay linear) */
  let waiting: string[] = [];
  let waitingLength = 0;
  /** where the scan resumes in buf */
  let from = 0;
  function* scan(final: boolean): Generator<JsonPiece> {
    // Only the value in progress is carried over; the scan resumes where it stopped.
    const keep = start >= 0 ? start : buf.length;
    buf = buf.slice(keep) + waiting.join('');
    from -= keep;
    if (start >= 0) start = 0;
    waiting = [];
    waitingLength = 0;
    const n = buf.length;
    for (let i = from; i < n; i++) {
      const c = buf.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (depth === valueDepth() && (isKey || scalar)) yield* finish(i + 1);
        } else if (c === NL) {
          // JSON strings hold no raw line break: the text so far is malformed (often a quote
          // too many earlier); JSON.parse names what and where.
          if (start >= 0) parseJsonAt(buf.slice(start, i + 1), file, startLine);
          bad(line, 'invalid JSON: a line break inside a string');
        }
        continue;
      }
      if (start >= 0 && scalar) {
        // a number, true, false or null ends at the next delimiter
        if (isSpace(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET) yield* finish(i);
        else continue;
      }
      if (c === NL) {
        line++;
        continue;
      }
      if (isSpace(c)) continue;
      if (depth > valueDepth() || (depth === valueDepth() && start >= 0)) {
        // inside a value: only its nesting and strings matter here
        if (c === QUOTE) inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          if (++depth > MAX_NESTING) bad(line, `nested deeper than ${MAX_NESTING} levels (pacta reads JSON nested at most ${MAX_NESTING} deep)`);
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (--depth === valueDepth()) yield* finish(i + 1);
        }
        continue;
      }
      switch (expect) {
        case 'root':
          if (c !== OPEN_BRACE) bad(line, notAnObject);
          depth = 1;
          expect = 'key-or-close';
          continue;
        case 'key-or-close':
        case 'key':
          if (c === CLOSE_BRACE && expect === 'key-or-close') {
            depth = 0;
            expect = 'end';
            continue;
          }
          if (c !== QUOTE) bad(line, `invalid JSON: expected a property name${expect === 'key-or-close' ? " or '}'" : ''}`);
          start = i;
          startLine = line;
          isKey = true;
          inString = true;
          continue;
        case 'colon':
          if (c !== COLON) bad(line, "invalid JSON: expected ':' after a property name");
          expect = 'value';
          continue;
        case 'comma-or-close':
          if (c === COMMA) expect = 'key';
          else if (c === CLOSE_BRACE) {
            depth = 0;
            expect = 'end';
          } else bad(line, "invalid JSON: expected ',' or '}' after a property value");
          continue;
        case 'element-comma-or-close':
          if (c === COMMA) expect = 'element';
          else if (c === CLOSE_BRACKET) {
            inArray = false;
            depth = 1;
            expect = 'comma-or-close';
          } else bad(line, "invalid JSON: expected ',' or ']' after an array element");
          continue;
        case 'end':
          bad(line, 'invalid JSON: unexpected text after the end of the object');
          continue;
        case 'element-or-close':
          if (c === CLOSE_BRACKET) {
            inArray = false;
            depth = 1;
            expect = 'comma-or-close';
            continue;
          }
          break;
        case 'value':
          if (c === OPEN_BRACKET && key === arrayKey) {
            yield { kind: 'member', key, value: [], line, text: '[' };
            inArray = true;
            depth = 2;
            index = 0;
            expect = 'element-or-close';
            continue;
          }
          break;
        case 'element':
          break;
      }
      // a value starts (a member's, or an array element)
      if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COMMA || c === COLON) bad(line, `invalid JSON: expected a value, got '${String.fromCharCode(c)}'`);
      start = i;
      startLine = line;
      scalar = c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== QUOTE;
      if (c === QUOTE) {
        inString = true;
        scalar = true; // a string value ends at its closing quote
      } else if (!scalar) {
        if (++depth > MAX_NESTING) bad(line, `nested deeper than ${MAX_NESTING} levels (pacta reads JSON nested at most ${MAX_NESTING} deep)`);
      }
    }
    from = n;
    if (final) {
      if (start >= 0 && scalar && !inString) yield* finish(n);
      if (expect !== 'end') bad(line, 'invalid JSON: unexpected end of the file (the object is not closed)');
    }
  }

  for (const chunk of chunks) {
    waiting.push(chunk);
    waitingLength += chunk.length;
    if (start >= 0 && waitingLength < buf.length - start) continue;
    yield* scan(false);
  }
  yield* scan(true);
}
