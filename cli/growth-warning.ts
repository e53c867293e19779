/**
 * A word before a run outgrows its memory: once the process holds half of its `--max-memory`
 * bound while the queue of states to explore still grows, one line on stderr says so, and names
 * the options that multiplied the space (loss, duplication, the bag network, crashes, clocks),
 * so that a person watching, or a CI log, learns why before the run stops with a partial result.
 */
import type { Options, Progress } from '../checker/options.ts';
import { num } from './format.ts';
import type { CliIO } from './io.ts';

/** The flags of `o` that multiply a state space, as the user would type them. */
export function multiplyingFlags(o: Options): string[] {
  const w = o.world;
  const flags: string[] = [];
  if (w.network === 'bag') flags.push('--network bag');
  if (w.dup) flags.push('--dup');
  if (w.drop) flags.push('--drop');
  if (w.crashes > 0) flags.push(`--crashes ${w.crashes}`);
  if ((w.diskFaults ?? 0) > 0) flags.push(`--disk-faults ${w.diskFaults}`);
  if ((w.clientRestarts ?? 0) > 0) flags.push(`--client-restarts ${w.clientRestarts}`);
  if (w.maxTime > 0) flags.push(`--max-time ${w.maxTime}`);
  if (w.clockError > 0) flags.push(`--clock-error ${w.clockError}`);
  if (w.maxInFlight === Number.POSITIVE_INFINITY && w.network !== 'set') flags.push('no --max-in-flight bound');
  return flags;
}

/** Watches progress reports; warns once. `rss` is injectable for tests. */
export function growthWarning(io: CliIO, o: Options, rss: () => number = () => process.memoryUsage.rss()): { update(p: Progress): void } {
  let warned = o.mode === 'random' || o.maxMemoryBytes === Number.POSITIVE_INFINITY;
  let lastQueue = 0;
  return {
    update(p) {
      if (warned) return;
      const growing = p.queue > lastQueue;
      lastQueue = p.queue;
      const used = rss();
      if (!growing || used < o.maxMemoryBytes / 2) return;
      warned = true;
      const mib = (n: number) => `${num(Math.round(n / 2 ** 20))} MiB`;
      const flags = multiplyingFlags(o);
      io.err(
        `${io.interactive ? '\n' : ''}pacta: warning: ${mib(used)} of the ${mib(o.maxMemoryBytes)} memory bound used after ${num(p.distinctStates)} states, ` +
          `and the queue still grows (${num(p.queue)} states at depth ${p.depth}); the run will stop at the bound with a partial result.\n` +
          `  ${flags.length > 0 ? `Options that multiply this space: ${flags.join(', ')}.` : 'Smaller params shrink the space.'} ` +
          `--symmetry, --max-in-flight N or fewer faults shrink it; --max-memory SIZE moves the bound.\n`,
      );
    },
  };
}
