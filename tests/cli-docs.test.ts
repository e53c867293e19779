/**
 * docs/cli.md cannot drift from the parsers: every command `pacta --help` lists has a section
 * there, and every option a command's parser declares (read from the option table the command
 * hands to parseCommandArgs, not from a list kept here) appears in that command's section.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { memoryIO } from '../cli/io.ts';

/** The option tables the commands parse with, by usage line, as they are handed to the parser. */
const declared = vi.hoisted(() => new Map<string, Record<string, { short?: string }>>());
vi.mock('../cli/args.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../cli/args.ts')>();
  return {
    ...real,
    parseCommandArgs: ((args, options, usage, io) => {
      declared.set(/^usage: pacta (\S+)/.exec(usage)![1]!, options as Record<string, { short?: string }>);
      return real.parseCommandArgs(args, options, usage, io);
    }) as typeof real.parseCommandArgs,
  };
});
const { main } = await import('../cli/main.ts');

const repo = resolve(import.meta.dirname, '..');
const doc = readFileSync(join(repo, 'docs', 'cli.md'), 'utf8');

/** The section of docs/cli.md headed `## \`pacta NAME ...\``, up to the next `## `. */
function section(name: string): string {
  const start = doc.search(new RegExp(`^## \`pacta ${name}\\b`, 'm'));
  if (start < 0) return '';
  const next = doc.slice(start + 3).search(/^## /m);
  return next < 0 ? doc.slice(start) : doc.slice(start, start + 3 + next);
}

/** The commands `pacta --help` lists. */
async function commands(): Promise<string[]> {
  const io = memoryIO();
  await main(['--help'], io);
  return [...io.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
}

describe('docs/cli.md lists every command and flag', async () => {
  const names = await commands();
  it('finds the commands', () => {
    expect(names).toEqual(expect.arrayContaining(['list', 'check', 'show', 'replay', 'minimize', 'run', 'lincheck', 'txcheck']));
  });
  for (const name of names) {
    it(`pacta ${name}: a section, and every option its parser declares`, async () => {
      expect(section(name), `no '## \`pacta ${name}' section`).not.toBe('');
      expect(await main([name, '--help'], memoryIO())).toBe(0);
      const options = declared.get(name);
      expect(options, `pacta ${name} did not parse with parseCommandArgs`).toBeDefined();
      const text = section(name);
      const missing = Object.entries(options!)
        .filter(([flag]) => flag !== 'help')
        .flatMap(([flag, o]) => [`--${flag}`, ...(o.short ? [`-${o.short}`] : [])])
        .filter((f) => !new RegExp(`\`${f}(?![\\w-])`).test(text));
      expect(missing).toEqual([]);
    });
  }
});

describe('docs/api.md maps check()\'s options to pacta check\'s flags', async () => {
  const api = readFileSync(join(repo, 'docs', 'api.md'), 'utf8');
  const section = api.slice(api.indexOf('## Options'), api.indexOf('## Running a cluster'));
  const table = section.slice(0, section.indexOf('Deprecated names'));
  const deprecatedTable = section.slice(section.indexOf('Deprecated names'));
  /** Rows `| \`option\` | \`--flag\` ... |` of the options table. */
  const rows = [...table.matchAll(/^\| `(\w+)` \| ([^|]*) \|/gm)].map((m) => ({ option: m[1]!, cell: m[2]!.trim(), flags: [...m[2]!.matchAll(/`(--[\w-]+)/g)].map((f) => f[1]!) }));
  /** Rows `| \`oldName\` | \`newName\` | ... |` of the deprecated names' table. */
  const deprecated = [...deprecatedTable.matchAll(/^\| `(\w+)` \| `(\w+)` \|/gm)].map((m) => ({ old: m[1]!, now: m[2]! }));
  /** The options check() accepts: its OptionsError for an unknown one lists them. */
  const { normalizeOptions } = await import('../checker/options.ts');
  const twoPhase = (await import('../specs/two-phase/two-phase.ts')).default;
  let known: string[] = [];
  try {
    normalizeOptions(twoPhase, { notAnOption: 1 } as never);
  } catch (e) {
    known = /\(known: ([^)]*)\)/.exec((e as Error).message)![1]!.split(', ');
  }

  it('lists every option check() accepts, and no other (deprecated names in their own table)', () => {
    expect(known.length).toBeGreaterThan(20);
    expect(deprecated.length).toBe(4);
    expect([...rows.map((r) => r.option), ...deprecated.map((d) => d.old)].sort()).toEqual([...known].sort());
    for (const d of deprecated) expect(rows.map((r) => r.option)).toContain(d.now);
  });

  it('names every option with a flag as that flag, in camelCase (params and negations excepted)', () => {
    const camel = (flag: string) => flag.replace(/^--(no-)?/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const misnamed = rows.filter((r) => r.cell.startsWith('`--') && r.option !== 'params' && r.option !== camel(r.flags[0]!));
    expect(misnamed).toEqual([]);
  });

  it('names the flag of every option that has one, and every pacta check flag is an option or said not to be', async () => {
    await main(['check', '--help'], memoryIO());
    const flags = Object.keys(declared.get('check')!).filter((f) => f !== 'help').map((f) => `--${f}`);
    const mapped = new Set(rows.flatMap((r) => r.flags));
    const notOptions = /Flags of `pacta check` that are not options: ([^\n]*\n[^\n]*\n[^\n]*)/.exec(section)?.[1] ?? '';
    const cliOnly = new Set([...notOptions.matchAll(/`(--[\w-]+)`/g)].map((m) => m[1]!));
    expect(flags.filter((f) => !mapped.has(f) && !cliOnly.has(f))).toEqual([]);
    // And no row names a flag pacta check does not have.
    expect([...mapped].filter((f) => !flags.includes(f))).toEqual([]);
  });
});
