/** `pacta list`: the bundled specs with their params and broken variants (and what exposes each). */
import { readFileSync } from 'node:fs';
import type { ExposeOptions, Params } from '../../specs/core/protocol.ts';
import { bundledSpecs } from '../../specs/catalogue.ts';
import { exposureFlags } from '../format.ts';
import { parseCommandArgs } from '../args.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';

/** What `pacta list` shows of one bundled spec. */
export interface ListingRow {
  name: string;
  summary: string;
  params: Record<string, unknown>;
  /** The spec's check defaults, as flags. */
  defaults: string;
  variants: string[];
  exposure: Record<string, { params: Partial<Params>; options: ExposeOptions; flags: string }>;
}

/**
 * The listing, computed from the specs themselves: every bundled spec module is imported (about
 * 100 ms of module loading, most of `pacta list`'s start-up).
 */
export async function listingRows(): Promise<ListingRow[]> {
  return Promise.all(
    Object.entries(bundledSpecs).map(async ([name, entry]) => {
      const p = await entry.load();
      const variants = Object.keys(p.variants ?? {});
      const exposure = Object.fromEntries(
        variants.map((v) => {
          // The variant's own exposure on top of the spec's check defaults, as `check` applies them.
          const e = p.variant(v).exposure ?? {};
          return [v, { params: e.params ?? {}, options: e.options ?? {}, flags: exposureFlags(e).join(' ') }];
        }),
      );
      const defaults = p.checkDefaults ? exposureFlags({ options: p.checkDefaults }).join(' ') : '';
      return { name, summary: entry.summary, params: p.params as Record<string, unknown>, defaults, variants, exposure };
    }),
  );
}

/**
 * The file the build writes the listing to (scripts/build.mjs), beside the built catalogue: the
 * built CLI reads it instead of importing every spec. Running from the sources, the listing is
 * always computed, so an edited spec is listed as it is now.
 */
export const LISTING_FILE = 'specs/listing.json';

function readBuiltListing(): ListingRow[] | null {
  if (!import.meta.url.endsWith('.js')) return null;
  try {
    return JSON.parse(readFileSync(new URL(`../../${LISTING_FILE}`, import.meta.url), 'utf8')) as ListingRow[];
  } catch {
    return null; // a build without it (or unreadable): compute it
  }
}

/** The help text of `pacta list`. */
export const listUsage = `usage: pacta list [--long] [--json]

  The bundled specs: summary, params (with their ranges) and broken variants (with the flags
  that expose each).
  --long   one line per param, and per variant the params and options that expose it
  --json   print one JSON array`;

export async function listCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean' }, long: { type: 'boolean', short: 'l' }, help: { type: 'boolean', short: 'h' } }, listUsage, io);
  if (!parsed) return Exit.ok;
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n\n${listUsage}`);
  const json = parsed.values.json ?? false;
  const rows = readBuiltListing() ?? (await listingRows());
  if (json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return Exit.ok;
  }
  if (parsed.values.long) {
    io.out(`${longListing(rows).join('\n')}\n`);
    return Exit.ok;
  }
  // One block per spec, wrapped to fit 100 columns: names first, then params and variants.
  const lines: string[] = [];
  for (const r of rows) {
    // Names of 12 columns or more keep two spaces before the summary.
    lines.push(...wrap(`${r.name.length < 12 ? r.name.padEnd(12) : `${r.name}  `}${r.summary}`, 12));
    lines.push(...wrap(`  params    ${Object.entries(r.params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`, 12));
    if (r.defaults) lines.push(...wrap(`  checks    ${r.defaults}`, 12));
    r.variants.forEach((v, i) => {
      const flags = r.exposure[v]!.flags;
      lines.push(...wrap(`${i === 0 ? '  variants  ' : ' '.repeat(12)}${spec(r.name, v)}${flags ? `  ${flags}` : ''}`, 14));
    });
    lines.push('');
  }
  lines.push(...wrap('Check a variant with `npx pacta check SPEC:VARIANT`; the flags shown are added unless you give your own.', 0));
  io.out(`${lines.join('\n')}\n`);
  return Exit.ok;
}

/**
 * `--long`: the same blocks, but one line per param and, per variant, the params and the options
 * of its exposure each on a line of its own (still within 100 columns).
 */
function longListing(rows: readonly ListingRow[]): string[] {
  const lines: string[] = [];
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  for (const r of rows) {
    lines.push(...wrap(`${r.name}  ${r.summary}`, 2));
    lines.push('  params');
    for (const [k, v] of Object.entries(r.params)) lines.push(...wrap(`    ${k} = ${value(v)}`, 6));
    if (r.defaults) lines.push(...wrap(`  checks under  ${r.defaults}`, 4));
    lines.push(r.variants.length ? '  variants' : '  variants  none');
    for (const v of r.variants) {
      const e = r.exposure[v]!;
      lines.push(`    ${spec(r.name, v)}`);
      const params = Object.entries(e.params);
      const options = Object.entries(e.options);
      if (params.length === 0 && options.length === 0) lines.push('      exposed by the defaults');
      if (params.length) lines.push(...wrap(`      params   ${params.map(([k, x]) => `${k}=${value(x)}`).join(' ')}`, 15));
      if (options.length) lines.push(...wrap(`      options  ${options.map(([k, x]) => `${k}=${value(x)}`).join(' ')}`, 15));
      if (e.flags) lines.push(...wrap(`      flags    ${e.flags}`, 15));
    }
    lines.push('');
  }
  lines.push(...wrap('`npx pacta check SPEC:VARIANT` adds a variant\'s flags unless you give your own.', 0));
  return lines;
}

function spec(name: string, variant: string): string {
  return `${name}:${variant}`;
}

/** Splits `text` at spaces into lines of at most `width` columns, continuation lines indented. */
function wrap(text: string, indent: number, width = 100): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/(?<=\S) (?=\S)/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = ' '.repeat(indent) + word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push(line);
  return out;
}
