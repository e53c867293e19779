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
    throw new UsageError(`${withSuggestion(e as Error & { code?: string }, Object.keys(options))}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(`${usage}\n`);
    return null;
  }
  return parsed;
}

/**
 * parseArgs' message for an unknown option, with the declared option nearest to it when one is
 * near enough to be a slip (`--mdoe`: "Did you mean --mode?"); other errors' messages as they are.
 */
function withSuggestion(e: Error & { code?: string }, names: string[]): string {
  const given = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '--([^'=]+)/.exec(e.message)?.[1] : undefined;
  const near = given === undefined ? undefined : nearestOption(given, names);
  return near === undefined ? e.message : `Unknown option '--${given}'. Did you mean --${near}?`;
}

/** The option name closest to `given` by edit distance (a swap of neighbours counts one), if close enough. */
export function nearestOption(given: string, names: string[]): string | undefined {
  const g = given.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    if (name === 'help') continue;
    const d = editDistance(g, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // One slip in a short name, two in a longer one: `--mod` → mode, `--networks` → network, `--fast` → nothing.
  return bestDistance <= (g.length <= 4 ? 1 : 2) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
