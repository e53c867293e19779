/**
 * `pacta show TRACE --format text|mermaid|html|itf [-o FILE]`: renders a trace for people (text,
 * a Mermaid sequence diagram, a self-contained HTML viewer) or for other tools (ITF, the trace
 * format of Apalache and Quint). Prints to stdout unless `-o` names a file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { toHtml } from '../../traces/html.ts';
import { toItf } from '../../traces/itf.ts';
import { toMermaid } from '../../traces/mermaid.ts';
import { withNodeNames } from '../../traces/node-names.ts';
import { formatTrace } from '../../traces/text.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { readTraceFile, traceProtocol } from '../load-trace.ts';
import { parseCommandArgs } from '../args.ts';

/** The help text of `pacta show`. */
export const showUsage = `usage: pacta show <trace.json> [--format text|mermaid|html|itf] [-o FILE]

  --format text     one line per step with what it changed (default)
  --format mermaid  a Mermaid sequence diagram (paste into Markdown or mermaid.live)
  --format html     one self-contained page: lanes per node, message arrows, a step slider
                    and the state diff at each step (opens offline)
  --format itf      the Informal Trace Format of Apalache and Quint (JSON)
  -o, --out FILE    write to FILE instead of stdout`;

const FORMATS = ['text', 'mermaid', 'html', 'itf'] as const;

/** Runs `pacta show`; resolves to the exit code. */
export async function showCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    showUsage,
    io,
  );
  if (!parsed) return Exit.ok;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one trace file, got ${parsed.positionals.length || 'none'}\n\n${showUsage}`);
  const format = v.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  const { trace, path } = readTraceFile(parsed.positionals[0]!, io.cwd);
  let text: string;
  if (format === 'itf') {
    // ITF needs the spec's schemas (sets vs lists, maps, node ids): the spec must load.
    text = `${JSON.stringify(toItf(trace, await traceProtocol(trace, path, io.cwd)), null, 1)}\n`;
  } else {
    // For people, node ids inside states read better as names; without the spec, ids stay.
    let shown = trace;
    try {
      shown = withNodeNames(trace, await traceProtocol(trace, path, io.cwd));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      io.err(`note: node ids inside states are shown as numbers (${e.message})\n`);
    }
    text = format === 'mermaid' ? toMermaid(shown) : format === 'html' ? toHtml(shown) : `${formatTrace(shown)}\n`;
  }
  if (v.out) {
    const out = resolve(io.cwd, v.out);
    try {
      writeFileSync(out, text);
    } catch (e) {
      throw new UsageError(`cannot write ${v.out}: ${(e as Error).message}`);
    }
    io.err(`wrote ${format} to ${v.out}\n`);
  } else {
    io.out(text);
  }
  return Exit.ok;
}
