/** `pacta list`: the bundled specs with their params and broken variants. */
import { bundledSpecs } from '../../specs/catalogue.ts';
import { table } from '../format.ts';
import { Exit, type CliIO } from '../io.ts';

export async function listCommand(args: string[], io: CliIO): Promise<number> {
  const json = args.includes('--json');
  const rows = await Promise.all(
    Object.entries(bundledSpecs).map(async ([name, entry]) => {
      const p = await entry.load();
      return { name, summary: entry.summary, params: p.params, variants: Object.keys(p.variants ?? {}) };
    }),
  );
  if (json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return Exit.ok;
  }
  io.out(
    `${table(
      ['spec', 'what', 'params (defaults)', 'broken variants'],
      rows.map((r) => [r.name, r.summary, Object.entries(r.params).map(([k, v]) => `${k}=${String(v)}`).join(' '), r.variants.join('\n')]),
    )}\n`,
  );
  return Exit.ok;
}
