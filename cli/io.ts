/**
 * The CLI's window on the outside world. Commands write through this instead of touching
 * `process` directly, so tests can run a command in-process and read what it printed.
 */
export interface CliIO {
  /** Normal output (results, tables, JSON). */
  out(text: string): void;
  /** Diagnostics and progress. */
  err(text: string): void;
  /** True when stderr is a terminal: only then do we draw live progress. */
  readonly interactive: boolean;
  /** Working directory used to resolve relative paths. */
  readonly cwd: string;
}

/** The real terminal. */
export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
  cwd: process.cwd(),
};

let guarded = false;

/**
 * A reader that goes away (`pacta run ... | head -1`) closes the pipe: the next write to stdout
 * fails with EPIPE, which Node reports as an unhandled 'error' event and a stack trace. The
 * output is no longer wanted, so the process ends quietly instead (exit 0).
 */
export function quietOnClosedStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** An in-memory IO for tests: collects what a command printed. */
export function memoryIO(cwd = process.cwd()): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    interactive: false,
    cwd,
    out(text: string) { io.stdout += text; },
    err(text: string) { io.stderr += text; },
  };
  return io;
}

/** Exit codes of the CLI contract (DESIGN.md). */
export const Exit = {
  ok: 0,
  violation: 1,
  usage: 2,
  incomplete: 3,
  internal: 4,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM, after printing what was found so far (128 + SIGINT). */
  interrupted: 130,
} as const;

/** A usage or input error: printed as one line, exit 2. Never shown as a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
