/**
 * The `pacta` command. The only code that prints to the terminal or sets exit codes; commands
 * are functions of (args, io) so tests run them in-process.
 *
 * Start-up is part of the interface (docs/performance.md#start-up): this module imports
 * nothing but io.ts and two small modules (the version, the JSON envelope), so `pacta --version`
 * pays for Node and little else; every command loads
 * its module when it runs, and errors are told apart by name, not by importing their classes.
 */
import { Exit, processIO, quietOnClosedStdout, type CliIO } from './io.ts';
import { jsonError } from './json-output.ts';
import { version } from './version.ts';

export { version };

type Command = (args: string[], io: CliIO) => Promise<number>;

/** Commands load lazily: `pacta list` should not pay for the checker, nor `pacta check` for the executor. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  list: { summary: 'list the bundled specs', load: async () => (await import('./commands/list.ts')).listCommand },
  check: { summary: 'explore a spec and check its properties', load: async () => (await import('./commands/check.ts')).checkCommand },
  show: { summary: 'render a trace: text, Mermaid, HTML viewer or ITF', load: async () => (await import('./commands/show.ts')).showCommand },
  replay: { summary: 'replay a trace on its spec, step by step', load: async () => (await import('./commands/replay.ts')).replayCommand },
  minimize: { summary: 'shrink a counterexample trace', load: async () => (await import('./commands/minimize.ts')).minimizeCommand },
  run: { summary: 'run one node of a cluster (udp or tcp), or a client of it', load: async () => (await import('./commands/run.ts')).runCommand },
  lincheck: { summary: 'check histories for linearizability (etcd, EDN, JSON)', load: async () => (await import('./commands/lincheck.ts')).lincheckCommand },
  txcheck: { summary: 'check transaction histories for serializability anomalies', load: async () => (await import('./commands/txcheck.ts')).txcheckCommand },
  worker: { summary: 'serve cluster runs (pacta check --cluster) from a shared Redis', load: async () => (await import('./commands/worker.ts')).workerCommand },
};

/** Registers a command (used as further commands land). */
export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  commands[name] = { summary, load };
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: pacta <command> [options]',
    '       pacta --version',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "run 'pacta help <command>' (or 'pacta <command> --help') for a command's options",
  ].join('\n');
}

/** The command a misspelt one most likely meant: one slip (an edit or a swap of neighbours), else none. */
function nearestCommand(given: string): string | undefined {
  return Object.keys(commands).find((c) => c.length === given.length ? [...c].filter((ch, i) => ch !== given[i]).length <= 1 || swapped(c, given) : Math.abs(c.length - given.length) === 1 && oneInsertion(c.length > given.length ? c : given, c.length > given.length ? given : c));
}
function swapped(a: string, b: string): boolean {
  const i = [...a].findIndex((ch, k) => ch !== b[k]);
  return i >= 0 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
function oneInsertion(longer: string, shorter: string): boolean {
  for (let i = 0; i < longer.length; i++) if (longer.slice(0, i) + longer.slice(i + 1) === shorter) return true;
  return false;
}

/** Errors that are the user's input, not pacta's bug: one line, exit 2. */
const usageErrors = new Set(['UsageError', 'OptionsError', 'ParamError', 'HistoryFormatError']);

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...args] = argv;
  if (io === processIO) quietOnClosedStdout();
  // `pacta help check` is `pacta check --help`; a bare `pacta help` (or --help) lists the commands.
  if (name === 'help' && args.length > 0) return main([args[0]!, '--help'], io);
  // An empty word (`pacta "" x`, a script's unset variable) is an unknown command, not a bare `pacta`.
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${usage()}\n`);
    return name ? Exit.ok : Exit.usage;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${version()}\n`);
    return Exit.ok;
  }
  // Own names only: `pacta constructor` must not find Object.prototype's.
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  // Under --json a failure prints a JSON error on stdout too, so a script always reads one object.
  const json = args.includes('--json');
  if (!command) {
    const near = nearestCommand(name);
    io.err(`pacta: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}\n\n${usage()}\n`);
    if (json) io.out(jsonError(name, 'usage', `unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}`, Exit.usage));
    return Exit.usage;
  }
  try {
    return await (await command.load())(args, io);
  } catch (e) {
    // By name: no class to import before a command runs, and an error from another copy of
    // the library (a spec file that brings its own) is recognized all the same.
    const kind = e instanceof Error ? e.name : '';
    if (usageErrors.has(kind)) {
      io.err(`pacta ${name}: ${(e as Error).message}\n`);
      if (json) io.out(jsonError(name, 'usage', (e as Error).message, Exit.usage));
      return Exit.usage;
    }
    if (kind === 'SpecError') {
      io.err(`pacta ${name}: the spec is malformed: ${(e as Error).message}\n`);
      if (json) io.out(jsonError(name, 'spec', `the spec is malformed: ${(e as Error).message}`, Exit.usage));
      return Exit.usage;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.err(`pacta ${name}: internal error: ${message}\n`);
    if (process.env.PACTA_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    else io.err('(set PACTA_DEBUG=1 for the stack trace, and please report it)\n');
    if (json) io.out(jsonError(name, 'internal', `internal error: ${message}`, Exit.internal));
    return Exit.internal;
  }
}
