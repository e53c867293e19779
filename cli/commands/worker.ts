/**
 * `pacta worker --cluster URL`: serve cluster runs (`pacta check SPEC --cluster URL`) until
 * stopped. Start one per core on as many machines as you have; each loads the spec a run names
 * as `pacta check` would (a bundled name, or a file path that must exist on this machine too).
 * Exit 0 when stopped by a signal, 2 for a bad or unreachable URL, 4 if Redis is lost mid-run.
 */
import { runWorker } from '../../checker/cluster/worker.ts';
import { parseCommandArgs } from '../args.ts';
import { Exit, processIO, UsageError, type CliIO } from '../io.ts';
import { loadSpec } from '../load-spec.ts';

export const workerUsage = `usage: pacta worker --cluster URL [--quiet]

  --cluster URL   the Redis the coordinator (pacta check SPEC --cluster URL) and the
                  workers share, e.g. redis://10.0.0.5:6379
  --quiet         print nothing but errors (default: a line per run joined and done)

Serves runs one after another until stopped (Ctrl-C, SIGTERM): a share of a partitioned
BFS, or walk jobs of a swarm random search. See docs/distributed.md.`;

const spec = {
  cluster: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function workerCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, spec, workerUsage, io);
  if (!parsed) return Exit.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${workerUsage}`);
  if (v.cluster === undefined) throw new UsageError(`--cluster URL is required (the Redis the coordinator uses)\n\n${workerUsage}`);
  let stopAsked = false;
  const onSignal = () => {
    if (stopAsked) process.exit(Exit.ok);
    stopAsked = true;
  };
  if (io === processIO) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    await runWorker({
      url: v.cluster,
      loadSpec: async (name) => (await loadSpec(name, io.cwd)).protocol,
      log: v.quiet ? undefined : (line) => io.err(`${line}\n`),
      stop: () => stopAsked,
    });
  } catch (e) {
    if (!(e instanceof Error && e.name === 'ClusterError')) throw e;
    io.err(`pacta worker: ${e.message}\n`);
    return (e as Error & { kind?: string }).kind === 'input' ? Exit.usage : Exit.internal;
  } finally {
    if (io === processIO) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  return Exit.ok;
}
