/**
 * `pacta show TRACE --format text|mermaid|html|itf [-o FILE]`: renders a trace for people (text,
 * a Mermaid sequence diagram, a self-contained HTML viewer) or for other tools (ITF, the trace
 * format of Apalache and Quint). Prints to stdout unless `-o` names a file.
 */
import { toHtml } from '../../traces/html.ts';
import { toItf } from '../../traces/itf.ts';
import { toMermaid } from '../../traces/mermaid.ts';
import { withNodeNames } from '../../traces/node-names.ts';
import { formatTrace } from '../../traces/text.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { namesBundledSpec, readTraceFile, traceProtocol } from '../load-trace.ts';
import { outputFilePath, writeOutputFile } from '../output-file.ts';
import { parseCommandArgs } from '../args.ts';

/** The help text of `pacta show`. */
export const showUsage = `usage: pacta show <trace.json> [--format text|mermaid|html|itf] [-o FILE] [--spec SPEC]

  Renders from the trace alone: a trace is data, and show runs no code it names. Node ids
  inside states are shown as names when the trace's spec is bundled or --spec names it.

  --format text     one line per step with what it changed (default)
  --format mermaid  a Mermaid sequence diagram (paste into Markdown or mermaid.live)
  --format html     one self-contained page: lanes per node, message arrows, a step slider
                    and the state diff at each step (opens offline)
  --format itf      the Informal Trace Format of Apalache and Quint (JSON)
  -o, --out FILE    write to FILE instead of stdout
  --spec SPEC       the trace's spec (a bundled name or a .ts/.js file): loaded for node names
                    and needed by --format itf when the spec is not bundled`;

const FORMATS = ['text', 'mermaid', 'html', 'itf'] as const;

/** Runs `pacta show`; resolves to the exit code. */
export async function showCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' }, spec: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    showUsage,
    io,
  );
  if (!parsed) return Exit.ok;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one trace file, got ${parsed.positionals.length || 'none'}\n\n${showUsage}`);
  const format = v.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  const out = v.out === undefined ? undefined : outputFilePath(io.cwd, v.out, '--out');
  const { trace, path } = readTraceFile(parsed.positionals[0]!, io.cwd);
  // Only pacta's own specs, or the one the user names, are loaded: never a module the trace points to.
  const canLoad = v.spec !== undefined || namesBundledSpec(trace);
  let text: string;
  if (format === 'itf') {
    // ITF needs the spec's schemas (sets vs lists, maps, node ids): the spec must load.
    if (!canLoad) throw new UsageError(`--format itf needs the trace's spec, "${trace.spec}", which is not bundled: name it with --spec <file> (show loads no code a trace names)`);
    text = `${JSON.stringify(toItf(trace, await traceProtocol(trace, path, io.cwd, v.spec)), null, 1)}\n`;
  } else {
    // For people, node ids inside states read better as names; without the spec, ids stay.
    let shown = trace;
    if (canLoad) {
      try {
        shown = withNodeNames(trace, await traceProtocol(trace, path, io.cwd, v.spec));
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        io.err(`note: node ids inside states are shown as numbers (${e.message})\n`);
      }
    }
    text = format === 'mermaid' ? toMermaid(shown) : format === 'html' ? toHtml(shown) : `${formatTrace(shown)}\n`;
  }
  if (out !== undefined) {
    writeOutputFile(out, text, '--out');
    io.err(`wrote ${format} to ${v.out}\n`);
  } else {
    io.out(text);
  }
  return Exit.ok;
}
