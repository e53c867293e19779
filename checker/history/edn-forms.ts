/**
 * Splits EDN text into its top-level forms, each with the line it starts on, and rejects
 * malformed text with a line-numbered error. edn-data (the parser we use for the forms
 * themselves) silently accepts unbalanced or odd input, so structure is checked here first.
 * A file that is one vector or list of forms (`[{...} {...}]`) is split into its elements.
 *
 * The splitter is incremental ({@link EdnFormSplitter}): text can arrive in chunks cut
 * anywhere, and each form is handed out as soon as it is complete, so a reader of a large
 * history holds one chunk and the forms in progress, never the whole file.
 */
import { MAX_NESTING } from '../../traces/nesting.ts';
import { HistoryFormatError } from './errors.ts';

/** One top-level EDN form: its source text and 1-based starting line. */
export interface EdnForm {
  readonly text: string;
  readonly line: number;
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}', '#{': '}' };
// Character codes (the scan reads codes: a history of 100 MB is 100M characters).
const NL = 10;
const QUOTE = 34;
const HASH = 35;
const SEMI = 59;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const isSpace = (c: number): boolean => c === 32 || c === 44 || c === 9 || c === NL || c === 13;
const isDelimiter = (c: number): boolean =>
  isSpace(c) || c === OPEN_PAREN || c === CLOSE_PAREN || c === OPEN_BRACKET || c === CLOSE_BRACKET || c === OPEN_BRACE || c === CLOSE_BRACE || c === QUOTE || c === SEMI;

interface Open {
  readonly opener: string;
  readonly line: number;
  /** forms read so far at this level (maps need an even number) */
  forms: number;
  /** `#_` discards pending before the collection opened: they apply to it as a whole */
  readonly prefixes: number;
}

/**
 * Splits EDN text given in chunks ({@link push}, then {@link end}) into top-level forms.
 * When the first top-level form is a vector or list, its elements are the forms (a file that
 * wraps its history in one `[...]`); a form after such a wrapper is an error.
 */
export class EdnFormSplitter {
  /** text not yet handed out: from the start of the form in progress (or the scan position) */
  private buf = '';
  /** chunks that arrived while a long token was incomplete (scanned together, see push) */
  private waiting: string[] = [];
  private waitingLength = 0;
  /** scan position in buf: always at a token boundary */
  private pos = 0;
  /** line at pos */
  private line = 1;
  private readonly stack: Open[] = [];
  private pendingPrefixes = 0;
  /** start (in buf) and line of the form being collected, or -1 */
  private formStart = -1;
  private formLine = 0;
  /** the wrapping vector's line, once the first top-level form turned out to be one */
  private wrapperLine = 0;
  private wrapperClosed = false;
  /** top-level forms completed so far */
  private topForms = 0;

  constructor(private readonly file: string) {}

  /** Feeds the next chunk of text; returns the forms it completed. */
  push(chunk: string): EdnForm[] {
    // A token longer than what arrived (a huge string or form): wait for as much text again
    // before rescanning it, so the rescans and copies stay linear in the file's size.
    this.waiting.push(chunk);
    this.waitingLength += chunk.length;
    if (this.waitingLength < this.buf.length) return [];
    return this.scan(false);
  }

  /** Ends the text: returns the last forms; throws if a collection or string is left open. */
  end(): EdnForm[] {
    const forms = this.scan(true);
    if (this.stack.length > 0) {
      const open = this.stack[this.stack.length - 1]!;
      this.bad(open.line, `"${open.opener}" opened here is never closed`);
    }
    if (this.pendingPrefixes > 0) this.bad(this.line, 'a #_ at the end of the text has no form to discard');
    return forms;
  }

  private bad(line: number, detail: string): never {
    throw new HistoryFormatError(this.file, line, detail);
  }

  /** Depth of the forms handed out: 0, or 1 inside the wrapping vector. */
  private get formDepth(): number {
    return this.wrapperLine > 0 && !this.wrapperClosed ? 1 : 0;
  }

  private scan(final: boolean): EdnForm[] {
    // Keep only what the form in progress (or the token at pos) still needs.
    const keep = this.formStart >= 0 ? this.formStart : this.pos;
    const text = this.buf.slice(keep) + this.waiting.join('');
    this.waiting = [];
    this.waitingLength = 0;
    if (this.formStart >= 0) this.formStart -= keep;
    let i = this.pos - keep;
    const out: EdnForm[] = [];
    const n = text.length;

    const beginForm = (at: number): void => {
      if (this.stack.length === this.formDepth && this.formStart < 0) {
        this.formStart = at;
        this.formLine = this.line;
      }
    };
    const endForm = (end: number): void => {
      // A complete form at the current depth; a pending prefix swallows it.
      if (this.pendingPrefixes > 0) {
        this.pendingPrefixes--;
        return;
      }
      if (this.stack.length > 0) this.stack[this.stack.length - 1]!.forms++;
      if (this.stack.length === 0) this.topForms++;
      if (this.stack.length === 0 && this.wrapperLine > 0 && this.topForms > 1) {
        this.bad(this.formLine, `a form after the vector that wraps the history (opened on line ${this.wrapperLine}): a file is one wrapping vector or a sequence of forms`);
      }
      if (this.stack.length === this.formDepth && this.formStart >= 0) {
        out.push({ text: text.slice(this.formStart, end), line: this.formLine });
        this.formStart = -1;
      }
    };

    scanning: while (i < n) {
      const c = text.charCodeAt(i);
      if (c === NL) {
        this.line++;
        i++;
        continue;
      }
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (c === SEMI) {
        let j = i;
        while (j < n && text.charCodeAt(j) !== NL) j++;
        if (j >= n && !final) break;
        i = j;
        continue;
      }
      if ((c === HASH || c === BACKSLASH) && i + 1 >= n && !final) break; // its meaning is in the next chunk
      if (c === QUOTE) {
        let lines = 0;
        let j = i + 1;
        for (; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === BACKSLASH) j++;
          if (text.charCodeAt(j) === NL) lines++;
        }
        if (j >= n) {
          if (!final) break;
          this.bad(this.line, 'unterminated string');
        }
        beginForm(i);
        this.line += lines;
        i = j + 1;
        endForm(i);
        continue;
      }
      const set = c === HASH && text.charCodeAt(i + 1) === OPEN_BRACE;
      if (c === OPEN_PAREN || c === OPEN_BRACKET || c === OPEN_BRACE || set) {
        const opener = set ? '#{' : text[i]!;
        if (this.stack.length >= MAX_NESTING) this.bad(this.line, `nested deeper than ${MAX_NESTING} levels (pacta reads EDN nested at most ${MAX_NESTING} deep)`);
        if (this.stack.length === 0 && this.topForms === 0 && this.pendingPrefixes === 0 && this.formStart < 0 && (c === OPEN_BRACKET || c === OPEN_PAREN)) {
          // The first top-level form is a vector or list: the history's forms are its elements.
          this.wrapperLine = this.line;
        } else {
          beginForm(i);
        }
        this.stack.push({ opener, line: this.line, forms: 0, prefixes: this.pendingPrefixes });
        this.pendingPrefixes = 0;
        i += opener.length;
        continue;
      }
      if (c === CLOSE_PAREN || c === CLOSE_BRACKET || c === CLOSE_BRACE) {
        const closer = text[i]!;
        const open = this.stack.pop();
        if (!open) this.bad(this.line, `unexpected "${closer}" with nothing open`);
        if (CLOSER[open.opener] !== closer) this.bad(this.line, `"${closer}" closes "${open.opener}" opened on line ${open.line}`);
        if (this.pendingPrefixes > 0) this.bad(this.line, `a #_ before "${closer}" has no form to apply to`);
        if (open.opener === '{' && open.forms % 2 !== 0) this.bad(open.line, 'map opened here has an odd number of forms (a key without a value)');
        this.pendingPrefixes = open.prefixes;
        i++;
        if (this.stack.length === 0 && this.wrapperLine > 0 && !this.wrapperClosed) {
          this.wrapperClosed = true;
          this.topForms++;
          continue;
        }
        endForm(i);
        continue;
      }
      beginForm(i);
      if (c === HASH && text.charCodeAt(i + 1) === UNDERSCORE) {
        this.pendingPrefixes++;
        i += 2;
        continue;
      }
      // an atom (keyword, number, symbol, nil, char, or a #tag prefix)
      let j = i + 1;
      if (c === BACKSLASH) j++; // a character literal may be a delimiter itself (\( or \space)
      while (j < n && !isDelimiter(text.charCodeAt(j))) j++;
      if (j >= n && !final) break scanning;
      const tag = c === HASH;
      if (tag && j === i + 1) this.bad(this.line, 'a lone "#"');
      i = j;
      // a tag (#inst, #uuid): the tagged form that follows counts as one form
      if (!tag) endForm(i);
    }
    // Keep the unscanned rest and the form in progress for the next chunk.
    const keepFrom = this.formStart >= 0 ? Math.min(this.formStart, i) : i;
    this.buf = text.slice(keepFrom);
    this.pos = i - keepFrom;
    if (this.formStart >= 0) this.formStart -= keepFrom;
    return out;
  }
}

/** Splits `text` into top-level EDN forms; throws {@link HistoryFormatError} if unbalanced. */
export function splitEdnForms(text: string, file: string): EdnForm[] {
  const splitter = new EdnFormSplitter(file);
  return [...splitter.push(text), ...splitter.end()];
}
