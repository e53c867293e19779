/**
 * The coordinator of a partitioned BFS (see bfs-member.ts for the members' side). It runs the
 * levels: tells every member to expand the level it owns, waits for all their reports, adds up
 * the counts, and decides whether to go on (states left, no failure, no limit). It holds no
 * state of the search itself, only the run's counters, goals and limits (the single-machine
 * Search). A failure's counterexample is rebuilt from parent links: the coordinator asks each
 * state's owner for its parent's fingerprint back to the initial state, then follows that
 * fingerprint path on its own model (trace-builder's concretize), as every explorer does.
 *
 * A member whose heartbeat expires ends the run with an error naming it: its share of the
 * visited set is gone, and resuming would mean keeping every share in Redis too (see
 * docs/distributed.md, "A worker dies").
 */
import type { Model } from '../model.ts';
import type { SearchOutcome, SearchResult } from '../exhaustive.ts';
import { Search, type LimitReason } from '../search.ts';
import { concretize, type FingerprintPath } from '../trace-builder.ts';
import { HandlerError } from '../world.ts';
import type { ClusterStats } from '../result.ts';
import type { LevelReport, MemberEvent } from './bfs-member.ts';
import type { ClusterRun } from './cluster-run.ts';
import { ClusterError } from './redis-link.ts';
import { ownerOf } from './owned-states.ts';

/** Runs a partitioned BFS of `model` on the run's members. */
export async function partitionedBfs(model: Model, run: ClusterRun): Promise<SearchResult & { cluster: ClusterStats }> {
  const search = new Search(model);
  const n = run.members.length;
  const owned = new Array<number>(n).fill(0);
  const visitedBytes = new Array<number>(n).fill(0);
  const busySeconds = new Array<number>(n).fill(0);
  const traffic = { batches: 0, bytes: 0, states: 0, roundTrips: 0 };
  let events: MemberEvent[] = [];
  let stop: LimitReason | null = null;

  /** Collects one report per member for `level`, watching heartbeats and the limits meanwhile. */
  const collect = async (level: number): Promise<LevelReport[]> => {
    const got: (LevelReport | undefined)[] = Array.from({ length: n }, () => undefined);
    let left = n;
    while (left > 0) {
      const r = await run.nextReport<LevelReport>();
      if (r === null) {
        const dead = await run.deadMembers(got.map((x, i) => (x ? -1 : i)).filter((i) => i >= 0));
        if (dead.length) {
          throw new ClusterError(`${run.name(dead[0]!)} stopped (its heartbeat expired) during level ${level + 1} of the partitioned BFS: its share of the visited set is lost, so the run is abandoned; start the workers again and re-run`);
        }
        if (stop === null) {
          const limit = search.limit(0);
          if (limit === 'time' || limit === 'interrupted' || limit === 'memory') {
            stop = limit;
            await run.stop();
          }
        }
        search.progress(owned.reduce((a, b) => a + b, 0), search.depth, 0);
        continue;
      }
      if (r.kind !== 'level' || r.level !== level || got[r.member]) throw new Error(`partitioned BFS: unexpected report ${JSON.stringify(r).slice(0, 200)} at level ${level}`);
      got[r.member] = r;
      left--;
    }
    return got as LevelReport[];
  };

  const absorb = (reports: LevelReport[]): number => {
    let fresh = 0;
    for (const r of reports) {
      owned[r.member] = r.owned;
      visitedBytes[r.member] = r.visitedBytes;
      busySeconds[r.member]! += r.seconds;
      search.generated += r.generated;
      fresh += r.fresh;
      traffic.batches += r.batchesSent;
      traffic.bytes += r.bytesSent;
      traffic.states += r.statesSent;
      traffic.roundTrips += r.roundTrips;
      for (const [g, depth] of r.goals) search.reached(g, depth);
      events.push(...r.events);
    }
    return fresh;
  };

  let fresh = absorb(await collect(-1));
  search.depth = 1;
  let level = 0;
  let depthLimited = false;
  while (fresh > 0 && events.length === 0 && stop === null) {
    const distinct = owned.reduce((a, b) => a + b, 0);
    const limit = search.limit(distinct);
    if (limit !== null) {
      stop = limit;
      break;
    }
    if (!search.expands(level)) {
      depthLimited = true;
      break;
    }
    await Promise.all(run.members.map((_, m) => run.send(m, { kind: 'level', level })));
    fresh = absorb(await collect(level));
    if (fresh > 0) search.depth = level + 2;
    level++;
    search.progress(owned.reduce((a, b) => a + b, 0), search.depth, 0);
  }

  let outcome: SearchOutcome = { kind: 'done' };
  if (events.length > 0) {
    // The shallowest failure, then a fixed order, so that a run's verdict does not depend on timing.
    const rank = (e: MemberEvent) => [e.depth, e.kind === 'violation' ? 0 : e.kind === 'deadlock' ? 1 : 2, e.hi, e.lo];
    events = events.sort((a, b) => {
      const x = rank(a);
      const y = rank(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
      return 0;
    });
    const e = events[0]!;
    const path = await pathTo(run, e.hi, e.lo);
    if (e.kind === 'violation') outcome = { kind: 'violation', property: e.property, path };
    else if (e.kind === 'deadlock') outcome = { kind: 'deadlock', path };
    else outcome = { kind: 'error', error: e.message, path, event: failingEvent(model, path) };
  } else if (stop !== null) {
    outcome = { kind: 'limit', reason: stop };
  } else if (depthLimited) {
    outcome = { kind: 'limit', reason: 'max-depth' };
  }

  const distinct = owned.reduce((a, b) => a + b, 0);
  const bytes = visitedBytes.reduce((a, b) => a + b, 0);
  const stats = search.stats(distinct, distinct ? bytes / distinct : 0);
  const cluster: ClusterStats = {
    kind: 'partitioned-bfs',
    workers: run.members.map((m, i) => ({
      worker: m.worker, host: m.host, pid: m.pid,
      states: owned[i]!, visitedBytes: visitedBytes[i]!,
      statesPerSecond: busySeconds[i]! > 0 ? Math.round(owned[i]! / busySeconds[i]!) : 0,
    })),
    batches: traffic.batches,
    bytesSent: traffic.bytes,
    statesSent: traffic.states,
    roundTrips: traffic.roundTrips,
  };
  return { outcome, stats, goals: search.goals, cluster };
}

/** The fingerprint path from the initial state to (hi, lo): each state's owner names its parent. */
async function pathTo(run: ClusterRun, hi: number, lo: number): Promise<FingerprintPath> {
  const path: FingerprintPath = [[hi >>> 0, lo >>> 0]];
  let at: [number, number] | null = [hi >>> 0, lo >>> 0];
  while (at !== null) {
    const member = ownerOf(at[0], run.members.length);
    await run.send(member, { kind: 'parent', hi: at[0], lo: at[1] });
    let reply: { kind: string; parent: [number, number] | null } | null = null;
    while (reply === null) {
      reply = await run.nextReport<{ kind: 'parent'; parent: [number, number] | null }>();
      if (reply === null && (await run.deadMembers([member])).length) throw new ClusterError(`${run.name(member)} stopped (its heartbeat expired) while the counterexample was rebuilt`);
    }
    at = reply.parent;
    if (at !== null) path.push(at);
  }
  return path.reverse();
}

/** The event that threw at the end of `path` (its handler throws again when re-run here). */
function failingEvent(model: Model, path: FingerprintPath) {
  const concrete = concretize(model, path);
  const last = concrete.states[concrete.states.length - 1]!;
  try {
    model.world.successors(last, () => {});
  } catch (e) {
    if (e instanceof HandlerError) return model.world.describe(last);
    throw e;
  }
  return null;
}
