/**
 * Random mode on worker threads. Every walk is decided by (seed, walk index) alone, so worker k
 * of W runs walks k, k + W, k + 2W, ... of the same sequence; the first violation any worker
 * finds stops them all, and its walk is re-run here (one walk, same seed) to build the trace.
 * Distinct states are counted per worker and summed, so they may count a state more than once.
 */
import { Model } from './model.ts';
import type { Options } from './options.ts';
import { randomWalks, type RandomRun } from './random.ts';
import type { GoalStatus } from './result.ts';
import { startWorker } from './parallel-worker.ts';

/** What a worker sends back after its share of the walks. */
export interface WalksReply {
  kind: 'walks-done';
  outcome: { kind: string; walk?: number; reason?: string };
  walks: number;
  steps: number;
  distinct: number;
  /** The deepest walk's length. */
  deepest: number;
  goals: GoalStatus[];
}

export async function parallelRandom(model: Model, specModule: string, workers: number): Promise<RandomRun> {
  const o = model.options;
  const started = performance.now();
  const { onProgress: _ignored, ...options } = o;
  const threads = Array.from({ length: workers }, () => startWorker());
  let found: { walk: number; worker: number } | null = null;
  let replies: WalksReply[] = [];
  try {
    replies = await new Promise<WalksReply[]>((resolve, reject) => {
      const done: (WalksReply | undefined)[] = new Array(workers);
      let left = workers;
      threads.forEach((w, k) => {
        w.once('error', reject);
        w.on('message', (m: { kind: string }) => {
          if (m.kind === 'ready') {
            w.postMessage({ kind: 'walks' });
            return;
          }
          const reply = m as WalksReply;
          done[k] = reply;
          if (reply.outcome.walk !== undefined && (found === null || reply.outcome.walk < found.walk)) found = { walk: reply.outcome.walk, worker: k };
          if (found !== null || --left === 0) resolve(done.filter((d): d is WalksReply => d !== undefined));
        });
        const share: Omit<Options, 'onProgress'> = { ...options, random: { ...o.random, stride: workers, offset: k } };
        w.postMessage({ kind: 'init', specModule, variant: model.protocol.variantName ?? null, options: share, walksOnly: true });
      });
    });
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  const hit = found as { walk: number; worker: number } | null;
  if (hit !== null) {
    // Re-run the failing walk alone: the same seed and index give the same walk, with its trace.
    const again = randomWalks(new Model(model.protocol, { ...o, random: { ...o.random, walk: hit.walk } }));
    const walks = replies.reduce((n, r) => n + r.walks, 0);
    const steps = replies.reduce((n, r) => n + r.steps, 0);
    return { ...again, stats: { ...again.stats, walks, steps, seconds: (performance.now() - started) / 1000 } };
  }
  const seconds = (performance.now() - started) / 1000;
  const distinct = replies.reduce((n, r) => n + r.distinct, 0);
  const steps = replies.reduce((n, r) => n + r.steps, 0);
  const goals: GoalStatus[] = model.goals.map((g, i) => {
    const reached = replies.map((r) => r.goals[i]!).filter((x) => x.reached);
    return reached.length ? { name: g.name, reached: true, depth: Math.min(...reached.map((x) => x.depth ?? 0)) } : { name: g.name, reached: false };
  });
  const limit = replies.find((r) => r.outcome.kind === 'limit');
  return {
    outcome: limit ? { kind: 'limit', reason: (limit.outcome.reason ?? 'time') as 'time' } : { kind: 'done' },
    goals,
    stats: {
      distinctStates: distinct,
      statesGenerated: steps,
      depth: replies.reduce((n, r) => Math.max(n, r.deepest), 0),
      seconds,
      statesPerSecond: seconds > 0 ? steps / seconds : 0,
      bytesPerState: 0,
      collisionProbability: 0,
      walks: replies.reduce((n, r) => n + r.walks, 0),
      steps,
    },
    cache: { states: 0, hits: 0, misses: 0 },
  };
}
