/**
 * `pacta replay TRACE`: re-executes every step of a trace on the model and checks that each
 * event is enabled and reproduces the recorded fingerprint, and that the final state shows the
 * recorded failure. Exit 0 when it replays, 1 at the first divergence (reported precisely),
 * 2 for bad input (unreadable trace, unknown spec or variant, mismatched nodes).
 */
import { ReplayMismatch, replayTrace } from '../../checker/replay.ts';
import { Exit, UsageError, type CliIO } from '../io.ts';
import { loadTrace } from '../load-trace.ts';
import { parseCommandArgs } from '../args.ts';
import { jsonHeader } from '../json-output.ts';

/** The help text of `pacta replay`. */
export const replayUsage = `usage: pacta replay <trace.json> [--json] [--executor] [--spec SPEC]

  Re-executes the trace's events on its spec (the trace names the spec, variant, params and
  options) and checks each step's fingerprint and the final failure.
  Exit 0: it replays · 1: it diverges (the first divergent step is reported) · 2: bad input.

  --json   print one JSON object: { replayed, steps } or { replayed: false, divergence }
  --executor  replay on the executor instead: node runtimes over the memory network, durable
              logs and a simulated clock; every node's packed state must equal the trace's
  --spec SPEC the spec to replay on (a bundled name or a .ts/.js file), instead of the one the
              trace names; a spec file the trace names is loaded only from under the working
              directory (a trace is data: it does not get to run code from elsewhere)`;

/** Runs `pacta replay`; resolves to the exit code. */
export async function replayCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, { json: { type: 'boolean' }, executor: { type: 'boolean' }, spec: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, replayUsage, io);
  if (!parsed) return Exit.ok;
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one trace file, got ${parsed.positionals.length || 'none'}\n\n${replayUsage}`);
  const file = parsed.positionals[0]!;
  const { trace, model, protocol, specChanged } = await loadTrace(file, io.cwd, parsed.values.spec);
  // Said before replaying: a divergence that follows is then read for what it likely is.
  if (specChanged) io.err(`pacta replay: note: ${specChanged}; the replay may diverge for that reason\n`);
  if (parsed.values.executor) {
    const { replayOnExecutor, formatExecutorReplay } = await import('../../impl/replay.ts');
    const r = await replayOnExecutor(protocol, trace).catch((e: unknown) => {
      throw typeof (e as { code?: unknown }).code === 'string' ? new UsageError(`${file}: ${(e as Error).message}`) : e;
    });
    io.out(parsed.values.json ? `${JSON.stringify({ ...jsonHeader('replay'), replayed: r.ok, executor: true, ...r })}\n` : formatExecutorReplay(file, r));
    return r.ok ? Exit.ok : Exit.violation;
  }
  let result;
  try {
    result = replayTrace(model, trace);
  } catch (e) {
    if (e instanceof ReplayMismatch) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  const steps = trace.steps.length - 1;
  if (parsed.values.json) {
    const changed = specChanged === undefined ? {} : { specChanged: true };
    io.out(`${JSON.stringify(result.ok ? { ...jsonHeader('replay'), replayed: true, steps, ...changed } : { ...jsonHeader('replay'), replayed: false, steps, divergence: result.divergence, ...changed })}\n`);
    return result.ok ? Exit.ok : Exit.violation;
  }
  if (result.ok) {
    if (trace.loopStart !== undefined) {
      const loop = trace.loopStart === steps ? `the run stays at step ${steps} forever` : `the cycle (steps ${trace.loopStart + 1}..${steps}) returns to the state of step ${trace.loopStart}`;
      io.out(`${file}: replays: all ${steps} steps reproduce their fingerprints, ${loop}, and "${trace.property?.name}" stays unsatisfied along the lasso\n`);
      return Exit.ok;
    }
    if (trace.bounded !== undefined) {
      const b = trace.bounded;
      const tail = b.terminal ? 'and the walk ends in a state where no fair event is enabled (a fair run may stay there: a violation)' : 'a suspected violation from a bounded random walk, not a proof';
      io.out(`${file}: replays: all ${steps} steps reproduce their fingerprints, and "${trace.property?.name}" stays unsatisfied over the last ${b.steps} steps${b.terminal ? "," : ":"} ${tail}\n`);
      return Exit.ok;
    }
    const what = trace.result === 'violation' ? `violates "${trace.property?.name}"` : trace.result === 'deadlock' ? 'deadlocks' : 'throws';
    io.out(`${file}: replays: all ${steps} steps reproduce their fingerprints, and the final state ${what}\n`);
    return Exit.ok;
  }
  const d = result.divergence;
  const lines = [`${file}: diverges at step ${d.step}: ${d.reason}`];
  if (d.expected) lines.push(`  fingerprint: expected ${d.expected}, got ${d.got}`);
  for (const diff of d.differences ?? []) lines.push(`  ${diff}`);
  if (specChanged) lines.push(`  note: ${specChanged}`);
  io.out(`${lines.join('\n')}\n`);
  return Exit.violation;
}
