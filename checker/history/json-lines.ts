/**
 * JSON parsing with line numbers: `JSON.parse` for the values (fast, exact), plus a light scan
 * that remembers the line where each value starts, so a semantic error ("operation 3 has no
 * call time") can name its line.
 */
import { MAX_NESTING, nestingPastLimit } from '../../traces/nesting.ts';
import { HistoryFormatError } from './errors.ts';

/** A parsed JSON document and the line on which each value starts, by JSON pointer. */
export interface LocatedJson {
  readonly value: unknown;
  /** Line (1-based) of the value at a JSON pointer such as `/operations/3/input`. */
  lineOf(pointer: string): number;
}

/** Parses JSON text; syntax errors become a {@link HistoryFormatError} with the line. */
export function parseLocatedJson(text: string, file: string, maxDepth = 4): LocatedJson {
  const deep = nestingPastLimit(text);
  if (deep) throw new HistoryFormatError(file, deep.line, `nested deeper than ${MAX_NESTING} levels (pacta reads JSON nested at most ${MAX_NESTING} deep)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    const line = at ? lineAt(text, Number(at[1])) : text.split('\n').length;
    throw new HistoryFormatError(file, line, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/, '')}`);
  }
  const lines = scanValueLines(text, maxDepth);
  return { value, lineOf: (pointer) => lines.get(pointer) ?? 1 };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

interface Frame {
  readonly array: boolean;
  readonly pointer: string;
  index: number;
  key: string;
  expectKey: boolean;
}

/** Maps the JSON pointer of every value up to `maxDepth` to its starting line (text is valid JSON). */
function scanValueLines(text: string, maxDepth: number): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: Frame[] = [];
  let line = 1;
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return `${top.pointer}/${top.array ? top.index : top.key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  };
  const valueStarts = (): void => {
    if (stack.length <= maxDepth) lines.set(here(), line);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (text[j] !== '"') {
        if (text[j] === '\\') {
          s += text[j]! + text[j + 1]!;
          j += 2;
        } else {
          s += text[j]!;
          j++;
        }
      }
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = JSON.parse(`"${s}"`) as string;
        top.expectKey = false;
      } else {
        valueStarts();
      }
      i = j;
    } else if (c === '{' || c === '[') {
      valueStarts();
      stack.push({ array: c === '[', pointer: here(), index: 0, key: '', expectKey: c === '{' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1]!;
      if (top.array) top.index++;
      else top.expectKey = true;
    } else if (c === '-' || (c >= '0' && c <= '9') || c === 't' || c === 'f' || c === 'n') {
      valueStarts();
      while (i + 1 < text.length && /[-+.eE0-9a-z]/.test(text[i + 1]!)) i++;
    }
  }
  return lines;
}
