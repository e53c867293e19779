/**
 * Errors raised by the history checkers. Two kinds, never mixed: a caller that misuses the API
 * gets a {@link HistoryCheckerError} with a stable `code` naming the function; a history file that
 * cannot be read gets a {@link HistoryFormatError} naming the file and line.
 */

/** Misuse of a history-checker API (a programming error, not a verdict). */
export class HistoryCheckerError extends Error {
  override readonly name = 'HistoryCheckerError';
  /**
   * Stable, machine-readable code: `<function>/<reason>`, e.g.
   * `HistoryRecorder.complete/unknown-operation`.
   */
  readonly code: string;

  constructor(code: string, message: string) {
    super(`${code.split('/')[0]}: ${message}`);
    this.code = code;
  }
}

/** A history file (or text) that is not in the format it claims to be in. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  /** The file (or a caller-chosen label such as `<stdin>`). */
  readonly file: string;
  /** 1-based line of the offending input; 0 when the problem is not tied to one line. */
  readonly line: number;
  /** What is wrong, without the location prefix. */
  readonly detail: string;

  constructor(file: string, line: number, detail: string) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
    this.file = file;
    this.line = line;
    this.detail = detail;
  }
}
