/**
 * `pacta minimize TRACE [-o OUT]`: shrinks a counterexample (delta debugging over its events,
 * BFS shortcuts between its states, then fewer crashes, faults, nodes and messages), checks that
 * the result replays, writes it, and prints the length before and after and the time taken.
 */
import { basename, dirname, join, relative } from 'node:path';
import { minimizeTrace } from '../../checker/minimize.ts';
import { ReplayMismatch, replayTrace } from '../../checker/replay.ts';
import { withNodeNames } from '../../traces/node-names.ts';
import { formatTrace } from '../../traces/text.ts';
import { seconds } from '../format.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { loadTrace } from '../load-trace.ts';
import { parseCommandArgs } from '../args.ts';
import { jsonHeader } from '../json-output.ts';
import { outputFilePath, writeOutputFile } from '../output-file.ts';
import { portableTrace } from '../trace-file.ts';

/** The help text of `pacta minimize`. */
export const minimizeUsage = `usage: pacta minimize <trace.json> [-o OUT] [--bfs-states N] [--time SECONDS] [--json] [--spec SPEC]

  Shrinks a violation or deadlock trace: delta debugging over its events (replaying each
  candidate and skipping events no longer enabled), bounded BFS for shortcuts between its
  states, then a pass preferring fewer crashes, faults, nodes and messages. A lasso (liveness)
  gets a shorter cycle that is still fair (greedy shortcuts judged as the checker judges
  cycles) and a shortest stem to it. The result replays.

  -o, --out OUT      where to write the minimized trace (default: <trace>.min.json beside it)
  --bfs-states N     states each shortcut search may visit (default 20000; for a lasso, the
                     states explored around its cycle, and 5× that for its stem)
  --time SECONDS     stop improving after this long and keep the best so far (default 60)
  --json             print one JSON object: { before, after, seconds, out, phases }
  --spec SPEC        the spec to minimize on (a bundled name or a .ts/.js file), instead of the
                     one the trace names; a spec file the trace names is loaded only from under
                     the working directory (a trace is data: it does not get to run code)`;

/** Runs `pacta minimize`; resolves to the exit code. */
export async function minimizeCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      out: { type: 'string', short: 'o' },
      'bfs-states': { type: 'string' },
      time: { type: 'string' },
      json: { type: 'boolean' },
      spec: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    minimizeUsage,
    io,
  );
  if (!parsed) return Exit.ok;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one trace file, got ${parsed.positionals.length || 'none'}\n\n${minimizeUsage}`);
  const bfsStates = v['bfs-states'] === undefined ? undefined : Number(v['bfs-states']);
  if (bfsStates !== undefined && !(Number.isInteger(bfsStates) && bfsStates >= 1)) throw new UsageError(`--bfs-states expects an integer ≥ 1, got '${v['bfs-states']}'`);
  const timeSeconds = v.time === undefined ? undefined : Number(v.time);
  if (timeSeconds !== undefined && !(timeSeconds > 0)) throw new UsageError(`--time expects a positive number of seconds, got '${v.time}'`);

  const file = parsed.positionals[0]!;
  const { trace, path, model, protocol, specPath, specChanged } = await loadTrace(file, io.cwd, parsed.values.spec);
  const out = v.out ? outputFilePath(io.cwd, v.out, '--out') : join(dirname(path), `${basename(path).replace(/(\.min)?\.json$/, '')}.min.json`);
  if (specChanged) io.err(`pacta minimize: note: ${specChanged}\n`);
  let result;
  try {
    result = minimizeTrace(model, trace, { bfsStates, timeSeconds });
  } catch (e) {
    if (e instanceof ReplayMismatch) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  // The contract: what we write replays. A failure here is our bug, not the user's input.
  const check = replayTrace(model, result.trace);
  if (!check.ok) throw new Error(`the minimized trace does not replay (step ${check.divergence.step}: ${check.divergence.reason})`);

  // The minimized trace may go to another folder: its spec path is made relative to it.
  writeOutputFile(out, `${JSON.stringify(portableTrace(result.trace, specPath, out), null, 1)}\n`, v.out ? '--out' : 'the minimized trace');
  const shown = relative(io.cwd, out) || out;
  if (v.json) {
    io.out(`${JSON.stringify({ ...jsonHeader('minimize'), before: result.before, after: result.after, seconds: Number(result.seconds.toFixed(3)), timedOut: result.timedOut, out: shown, phases: result.phases })}\n`);
    return Exit.ok;
  }
  const lines = [
    `${file}: ${result.before} → ${result.after} steps in ${seconds(result.seconds)}${result.timedOut ? ' (time limit reached: best so far)' : ''}`,
    ...result.phases.map((p) => `  ${p.phase.padEnd(11)} ${String(p.before).padStart(4)} → ${String(p.after).padEnd(4)} ${seconds(p.seconds)}`),
    '',
    formatTrace(withNodeNames(result.trace, protocol)),
    '',
    `minimized trace written to ${shown} (it replays: pacta replay ${shown})`,
  ];
  io.out(`${lines.join('\n')}\n`);
  return Exit.ok;
}
