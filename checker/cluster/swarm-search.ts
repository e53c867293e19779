/**
 * The coordinator of a swarm search (see swarm-jobs.ts for what a job is, swarm-member.ts for the
 * workers' side). It queues the jobs, counts each job's report once, adds up walks, steps,
 * states, goals and coverage, and stops the swarm at the first failure reported; the trace is
 * then built here (cluster-check.ts): a failing walk is re-run (its seed, index and strategy
 * decide it), a DFS job's path is followed by its fingerprints. A worker whose heartbeat expires
 * loses nothing: the jobs it had claimed go back to the queue.
 */
import type { Model } from '../model.ts';
import type { RandomRun } from '../random.ts';
import type { ClusterStats } from '../result.ts';
import { Search, type LimitReason } from '../search.ts';
import type { ClusterRun } from './cluster-run.ts';
import { ClusterError } from './redis-link.ts';
import { describeStrategy, makeJobs, type JobReport, type Strategy, type SwarmJob } from './swarm-jobs.ts';

/** A failure a worker reported: its job's report (the walk to re-run, or the DFS path) and the job's strategy. */
export interface SwarmFinding {
  report: JobReport;
  strategy: Strategy;
}

export interface SwarmOutcome {
  run: Pick<RandomRun, 'outcome' | 'stats' | 'goals'>;
  finding: SwarmFinding | null;
  cluster: ClusterStats;
}

/** Jobs queued ahead when the run is bounded by time only. */
const AHEAD_JOBS = 64;

export async function swarmSearch(model: Model, run: ClusterRun): Promise<SwarmOutcome> {
  const o = model.options;
  const n = run.members.length;
  const k = run.keys;
  const search = new Search(model);
  const byTime = o.walks === Number.POSITIVE_INFINITY && o.random.walk === null;
  const jobs = new Map<number, SwarmJob>();
  const queue = async (list: SwarmJob[]) => {
    for (const j of list) jobs.set(j.id, j);
    for (let i = 0; i < list.length; i += 1000) await run.redis.rpush(k.jobs, ...list.slice(i, i + 1000).map((j) => JSON.stringify(j)));
  };
  await queue(makeJobs(o, n, 0, 0, byTime ? AHEAD_JOBS * 8 : undefined));
  const done = new Set<number>();
  const alive = new Set(run.members.map((_, i) => i));
  const memberOf = new Map(run.members.map((m, i) => [m.worker, i]));
  const perWorker = run.members.map(() => ({ jobs: 0, steps: 0 }));
  let covered = 0;
  let walks = 0;
  let steps = 0;
  /** DFS jobs: successors computed, and states visited (each job counts its own). */
  let dfsGenerated = 0;
  let dfsStates = 0;
  let deepest = 0;
  let largestJob = 0;
  let retried = 0;
  let finding: SwarmFinding | null = null;
  let limit: LimitReason | null = null;

  while (finding === null && limit === null && (byTime || done.size < jobs.size)) {
    const r = await run.nextReport<{ kind: 'job'; id: number; worker: number }>();
    if (r === null) {
      for (const dead of await run.deadMembers([...alive])) {
        alive.delete(dead);
        // Its claimed jobs go back to the queue, to whichever worker is free.
        while ((await run.redis.lmove(k.claimed(run.members[dead]!.worker), k.jobs, 'RIGHT', 'LEFT')) !== null) retried++;
      }
      if (alive.size === 0) throw new ClusterError(`every worker of the swarm stopped (last: ${run.name(run.members.length - 1)}); ${done.size} of ${jobs.size} jobs were done`);
      const l = search.limit(0);
      if (l === 'time' || l === 'interrupted' || l === 'memory') limit = l;
      search.generated = steps + dfsGenerated;
      search.progress(Math.max(largestJob, covered), deepest, await run.redis.llen(k.jobs));
      continue;
    }
    if (r.kind !== 'job' || done.has(r.id)) continue; // a job run twice reports once
    const text = await run.redis.hget(k.results, String(r.id));
    if (text === null) continue;
    const report = JSON.parse(text) as JobReport;
    done.add(r.id);
    const dfs = jobs.get(r.id)?.strategy.strategy === 'dfs';
    walks += report.walks;
    if (dfs) {
      dfsGenerated += report.steps;
      dfsStates += report.distinct;
    } else {
      steps += report.steps;
    }
    deepest = Math.max(deepest, report.deepest);
    largestJob = Math.max(largestJob, report.distinct);
    for (const [g, depth] of report.goals) search.reached(g, depth);
    const w = memberOf.get(report.worker);
    if (w !== undefined) {
      perWorker[w]!.jobs++;
      perWorker[w]!.steps += report.steps;
    }
    if (report.outcome === 'violation' || report.outcome === 'deadlock' || report.outcome === 'error') {
      finding = { report, strategy: jobs.get(report.id)!.strategy };
      break;
    }
    const l = search.limit(0);
    if (l !== null && l !== 'max-states') limit = l;
    if ((done.size & 15) === 0) covered = await run.redis.pfcount(k.coverage);
    if (byTime && (await run.redis.llen(k.jobs)) < AHEAD_JOBS) {
      const last = Math.max(...jobs.keys());
      await queue(makeJobs(o, n, last + 1, jobs.get(last)!.to, AHEAD_JOBS));
    }
    search.generated = steps + dfsGenerated;
    search.progress(Math.max(largestJob, covered), deepest, await run.redis.llen(k.jobs));
  }
  await run.stop();

  const seconds = (performance.now() - search.started) / 1000;
  // Coverage: the HyperLogLog's estimate (0.81% standard error) of the union; never less than one job's exact count.
  const distinct = Math.max(largestJob, await run.redis.pfcount(k.coverage));
  // As in random mode: a run bounded by time alone ends normally when the time is up.
  const outcome: RandomRun['outcome'] = limit === null || (limit === 'time' && byTime) ? { kind: 'done' } : { kind: 'limit', reason: limit as 'time' | 'interrupted' | 'memory' };
  const busy = seconds > 0 ? seconds : 1;
  return {
    run: {
      outcome,
      goals: search.goals,
      stats: { distinctStates: distinct, statesGenerated: steps + dfsGenerated, depth: deepest, seconds, statesPerSecond: (steps + dfsGenerated) / busy, bytesPerState: 0, collisionProbability: 0, walks, steps },
    },
    finding,
    cluster: {
      kind: 'swarm',
      workers: run.members.map((m, i) => ({ worker: m.worker, host: m.host, pid: m.pid, states: perWorker[i]!.steps, statesPerSecond: Math.round(perWorker[i]!.steps / busy), jobs: perWorker[i]!.jobs })),
      jobs: done.size,
      retried,
      dfsStates,
      ...(finding && { foundBy: { job: finding.report.id, worker: finding.report.worker, strategy: describeStrategy(finding.strategy) } }),
    },
  };
}
