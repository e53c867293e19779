/**
 * Option parsing shared by every command: node:util's parseArgs in strict mode, with an
 * unknown or malformed option reported as a usage error (exit 2) followed by the command's
 * usage, and `--help` printing that usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliIO } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
/** What parseArgs gives for `options` (spelled out: declaration emit cannot name node:util's inner types). */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * Parses a command's arguments; `options` must declare `help`. Returns null when `--help` was
 * given (the usage is then printed and the command should exit 0).
 */
export function parseCommandArgs<const O extends Options>(args: string[], options: O, usage: string, io: CliIO): Parsed<O> | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(`${usage}\n`);
    return null;
  }
  return parsed;
}
