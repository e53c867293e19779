/**
 * Nesting bounds for the files pacta reads (traces, JSON and EDN histories). Readers, renderers,
 * differs and fingerprinters walk values recursively; a file nested 100,000 deep would end in
 * "Maximum call stack size exceeded". Every reader therefore measures the nesting of its text
 * first, with a loop, and refuses a file deeper than {@link MAX_NESTING} with a clear error.
 */

/** The deepest nesting of arrays and objects (JSON) or collections (EDN) that pacta reads. */
export const MAX_NESTING = 1000;

/**
 * Where the text's nesting first goes past `limit`: the offset and its 1-based line, or null
 * when it stays within. Brackets inside strings do not count; `ednComments` also skips `;`
 * comments and character literals (`\(`). Iterative: any depth costs no stack.
 */
export function nestingPastLimit(text: string, limit = MAX_NESTING, edn = false): { offset: number; line: number } | null {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 34) {
      // a string: skip to its closing quote (escapes skipped), counting lines
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) {
        if (text.charCodeAt(i) === 92) i++;
        else if (text.charCodeAt(i) === 10) line++;
      }
    } else if (edn && c === 59) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 10) i++;
    } else if (edn && c === 92) {
      i++; // a character literal such as \( is not a bracket
    } else if (c === 91 || c === 123 || c === 40) {
      if (++depth > limit) return { offset: i, line };
    } else if (c === 93 || c === 125 || c === 41) {
      depth--;
    }
  }
  return null;
}
