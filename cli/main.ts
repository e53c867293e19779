/**
 * The `pacta` command. The only code that prints to the terminal or sets exit codes; commands
 * are functions of (args, io) so tests run them in-process.
 */
import { HistoryFormatError } from '../checker/history/errors.ts';
import { OptionsError } from '../checker/options.ts';
import { SpecError } from '../specs/core/index.ts';
import { checkCommand } from './commands/check.ts';
import { listCommand } from './commands/list.ts';
import { Exit, processIO, UsageError, type CliIO } from './io.ts';

type Command = (args: string[], io: CliIO) => Promise<number>;

/** Commands load lazily: `pacta list` should not pay for the executor. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  list: { summary: 'list the bundled specs', load: async () => listCommand },
  check: { summary: 'explore a spec and check its properties', load: async () => checkCommand },
  show: { summary: 'render a trace: text, Mermaid, HTML viewer or ITF', load: async () => (await import('./commands/show.ts')).showCommand },
  replay: { summary: 'replay a trace on its spec, step by step', load: async () => (await import('./commands/replay.ts')).replayCommand },
  minimize: { summary: 'shrink a counterexample trace', load: async () => (await import('./commands/minimize.ts')).minimizeCommand },
  run: { summary: 'run one node of a cluster (udp or tcp), or a client of it', load: async () => (await import('./commands/run.ts')).runCommand },
  lincheck: { summary: 'check histories for linearizability (etcd, EDN, JSON)', load: async () => (await import('./commands/lincheck.ts')).lincheckCommand },
  txcheck: { summary: 'check transaction histories for serializability anomalies', load: async () => (await import('./commands/txcheck.ts')).txcheckCommand },
};

/** Registers a command (used as further commands land). */
export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  commands[name] = { summary, load };
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: pacta <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "run 'pacta <command> --help' for a command's options",
  ].join('\n');
}

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${usage()}\n`);
    return name ? Exit.ok : Exit.usage;
  }
  const command = commands[name];
  if (!command) {
    io.err(`pacta: unknown command '${name}'\n\n${usage()}\n`);
    return Exit.usage;
  }
  try {
    return await (await command.load())(args, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof OptionsError || e instanceof HistoryFormatError) {
      io.err(`pacta ${name}: ${e.message}\n`);
      return Exit.usage;
    }
    if (e instanceof SpecError) {
      io.err(`pacta ${name}: the spec is malformed: ${e.message}\n`);
      return Exit.usage;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.err(`pacta ${name}: internal error: ${message}\n`);
    if (process.env.PACTA_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    else io.err('(set PACTA_DEBUG=1 for the stack trace, and please report it)\n');
    return Exit.internal;
  }
}
