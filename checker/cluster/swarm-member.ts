/**
 * A worker's part in a swarm random search: claim a walk job (moved atomically from the run's
 * queue to this worker's claimed list, where the coordinator finds it again if this worker's
 * heartbeat expires), walk it with random mode's walker in short slices (the heartbeat and the
 * stop flag are seen between them), add the fingerprints it saw to the run's HyperLogLog
 * (coverage), store the report under the job's id unless one is there
 * already (HSETNX: a job run twice reports once), tell the coordinator, and release the claim.
 */
import type { Redis } from 'ioredis';
import type { Protocol } from '../../specs/core/index.ts';
import { Model } from '../model.ts';
import { normalizeOptions, type CheckOptions } from '../options.ts';
import { randomWalks, Walker } from '../random.ts';
import type { RunKeys } from './redis-link.ts';
import { withStrategy, type JobReport, type WalkJob } from './swarm-jobs.ts';

/** Walks run between two looks at the event loop (heartbeat) and the stop flag. */
const SLICE_WALKS = 4;

/** Serves walk jobs until the queue stays empty and the coordinator ends the run (or a stop). */
export async function serveSwarm(spec: Protocol, redis: Redis, k: RunKeys, worker: number, options: CheckOptions, stop: () => boolean): Promise<void> {
  const models = new Map<string, Model>();
  for (;;) {
    // EXISTS counts the keys there: 1 means the coordinator is alive and no stop was asked.
    if (stop() || (await redis.exists(k.stop, k.coordinator)) !== 1) return;
    const text = await redis.lmove(k.jobs, k.claimed(worker), 'LEFT', 'RIGHT');
    if (text === null) {
      await new Promise((r) => setTimeout(r, 100)); // a lost job may be put back
      continue;
    }
    const job = JSON.parse(text) as WalkJob;
    const key = JSON.stringify(job.strategy);
    let model = models.get(key);
    if (!model) {
      model = new Model(spec, normalizeOptions(spec, withStrategy(options, job.strategy)));
      models.set(key, model);
    }
    const { report, seen } = await walkJob(model, job, worker, async () => stop() || (await redis.exists(k.stop)) === 1);
    if (report.outcome !== 'stopped') {
      // Coverage: every fingerprint the job saw goes into the run's HyperLogLog (adding one twice changes nothing).
      for (let i = 0; i < seen.length; i += 2000) await redis.pfadd(k.coverage, ...seen.slice(i, i + 2000));
      await redis.hsetnx(k.results, String(job.id), JSON.stringify(report));
      await redis.rpush(k.reports, JSON.stringify({ kind: 'job', id: job.id, worker }));
    }
    await redis.lrem(k.claimed(worker), 1, text);
  }
}

/** Walks a job's range in slices on one walker (its memo and visited set carry over). */
async function walkJob(model: Model, job: WalkJob, worker: number, stopped: () => Promise<boolean>): Promise<{ report: JobReport; seen: string[] }> {
  const walker = new Walker(model);
  let walks = 0;
  let steps = 0;
  let deepest = 0;
  let outcome: JobReport['outcome'] = 'done';
  let failure: Pick<JobReport, 'walk' | 'property' | 'error'> = {};
  for (let from = job.from; from < job.to; from += SLICE_WALKS) {
    if (await stopped()) {
      outcome = 'stopped';
      break;
    }
    const o = model.options;
    // The same model (world, memo) with this slice's range: walks from..to of the seed, one by one.
    const slice = Object.assign(Object.create(Object.getPrototypeOf(model) as object) as Model, model, {
      options: { ...o, walks: Math.min(job.to, from + SLICE_WALKS), random: { ...o.random, walk: null, offset: from, stride: 1 } },
    });
    const run = randomWalks(slice, walker);
    walks += run.stats.walks ?? 0;
    steps = run.stats.steps ?? steps;
    deepest = Math.max(deepest, run.stats.depth);
    const r = run.outcome;
    if (r.kind === 'violation' || r.kind === 'deadlock' || r.kind === 'error') {
      outcome = r.kind;
      failure = { walk: r.walk, ...(r.kind === 'violation' && { property: r.property }), ...(r.kind === 'error' && { error: r.error }) };
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  const seen: string[] = [];
  walker.store.forEach((hi, lo) => seen.push(`${hi.toString(36)}.${lo.toString(36)}`));
  const goals: [number, number][] = [];
  walker.goals.forEach((g, i) => {
    if (g.reached) goals.push([i, g.depth ?? 0]);
  });
  return { report: { id: job.id, worker, outcome, ...failure, walks, steps, distinct: walker.store.size, deepest, goals }, seen };
}
