/**
 * Client restarts in raft-kv's model (`clientRestarts`, CLI `--client-restarts`): a client that
 * restarts with the same id registers a new incarnation and numbers its requests above every id
 * of the earlier one, so that each of its requests is applied exactly once, answered, and never
 * taken for a duplicate; the variant whose clients have no sessions reuses its ids and is caught.
 */
import { describe, expect, it } from 'vitest';
import { checkSync } from '../../checker/check.ts';
import { OptionsError } from '../../checker/options.ts';
import { invariant, reachable, SESSION_IDS, type HistoryEntry, type WorldReader } from '../core/index.ts';
import raftKv, { applyEntry, type KvResult, type KvServer } from './raft-kv.ts';
import twoPhase from '../two-phase/two-phase.ts';
import spanner from '../spanner/spanner.ts';

/** A client request is applied at most once: replaying a server's committed log, no (client, id) changes the state twice. */
const appliedAtMostOnce = invariant('each client request is applied at most once', (w: WorldReader) => w.states<KvServer>('server').every((s) => {
  let kv: KvServer['kv'] = new Map();
  let sessions: KvServer['sessions'] = new Map();
  const applied = new Set<string>();
  for (const e of s.log.slice(0, s.commit)) {
    if (e.cmd === null || e.cmd.op.kind === 'register') continue;
    const next = applyEntry(kv, sessions, e);
    if (next.sessions !== sessions) {
      const key = `${e.cmd.client}:${e.cmd.id}`;
      if (applied.has(key)) return false;
      applied.add(key);
    }
    kv = next.kv;
    sessions = next.sessions;
  }
  return true;
}));

/** A put of a restarted client's new incarnation (ids above SESSION_IDS) is answered ok. */
const restartedPutAnswered = reachable("a restarted client's put is answered", (w: WorldReader) => {
  const h = w.history() as readonly HistoryEntry[];
  return h.some((e) => e.kind === 'return' && e.id > SESSION_IDS && (e.result as KvResult).kind === 'ok');
});

const withChecks = { ...raftKv, properties: (p: Parameters<NonNullable<typeof raftKv.properties>>[0]) => [...raftKv.properties!(p), appliedAtMostOnce, restartedPutAnswered] };
const params = { clients: 1, opsPerClient: 2, keys: 1, values: 1 };

describe('raft-kv with client restarts', () => {
  it('a restarted client registers, and each request is applied once and answered (2 servers)', () => {
    const r = checkSync(withChecks, { clientRestarts: 1, params: { ...params, servers: 2, requestLiveness: true } });
    expect(r.result, JSON.stringify(r.goals)).toBe('ok');
    expect(r.goals.every((g) => g.reached)).toBe(true);
    expect(r.liveness!.map((l) => l.checked)).toEqual([true]);
    expect(r.stats.distinctStates).toBe(8552); // no symmetry: the liveness property is checked
  });

  it('without restarts the goal is not reached (the check above is not vacuous)', () => {
    const r = checkSync(withChecks, { params: { ...params, servers: 2 } });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toBe("a restarted client's put is answered");
  });

  it('restarted-client-reuses-ids: a bare check finds the stale reply (linearizability, 13 steps)', () => {
    const r = checkSync(raftKv.variant('restarted-client-reuses-ids'));
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toBe('linearizable: log and lease reads and writes');
    expect(r.trace!.steps.length - 1).toBe(13);
    expect(r.trace!.steps.some((s) => s.event?.kind === 'restart' && String(r.trace!.nodes[s.event.node as number]).startsWith('client'))).toBe(true);
  });

  it('is refused for specs without clients, or whose clients have no sessions', () => {
    expect(() => checkSync(twoPhase, { clientRestarts: 1 })).toThrow(OptionsError);
    expect(() => checkSync(twoPhase, { clientRestarts: 1 })).toThrow(/needs clients: two-phase declares none/);
    expect(() => checkSync(spanner, { clientRestarts: 1 })).toThrow(/needs client sessions: spanner's clients declare none/);
    expect(() => checkSync(raftKv, { clientRestarts: -1 })).toThrow(/'clientRestarts' must be an integer ≥ 0/);
  });
});
