/**
 * The election storm (election.ts, `raft:election-storm`): with one link cut, Raft without
 * pre-vote and check-quorum deposes its leaders for ever (a lasso, terms modulo 6); with both on —
 * or pre-vote alone, as the thesis states it — a leader stays. Counts pinned: a change is a change
 * in the semantics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSync } from '../../checker/check.ts';
import { modularTerms, TERM_MODULUS } from './election.ts';
import raft from './raft.ts';

const storm = raft.variant('election-storm');
const STABLE = 'a stable leader: eventually one leader that a majority follows, for ever';

describe('raft:election-storm (3 servers, server 1 ↔ server 3 cut, bag, fair delivery and timers)', () => {
  it('pre-vote and check-quorum off: leaders are deposed for ever (a lasso whose terms climb round the modulus)', () => {
    const r = checkSync(storm);
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property).toEqual({ name: STABLE, kind: 'eventuallyAlways' });
    const trace = r.trace!;
    expect(trace.loopStart).toBeDefined();
    // The cycle returns to its first state: the same roles and terms, every term 6 higher.
    expect(trace.steps[trace.steps.length - 1]!.fingerprint).toBe(trace.steps[trace.loopStart!]!.fingerprint);
    // On the cycle, leadership changes hands between server 1 and server 3 (server 2 cannot campaign: it always has a leader).
    const elected = new Set<string>();
    for (const step of trace.steps.slice(trace.loopStart!)) {
      for (const n of step.state.nodes) if ((n.state as { role: string }).role === 'leader') elected.add(n.name);
    }
    expect([...elected].sort()).toEqual(['server1', 'server3']);
    expect(r.stats.distinctStates).toBe(STORM_STATES);
  });

  it('pre-vote and check-quorum on: a leader stays (the same bounds)', () => {
    const r = checkSync(storm, { params: { preVote: true, checkQuorum: true } });
    expect(r.result).toBe('ok');
    expect(r.liveness).toEqual([{ name: STABLE, kind: 'eventuallyAlways', checked: true }]);
    expect(r.stats.distinctStates).toBe(PRE_VOTE_STATES);
  });

  it("pre-vote alone (the thesis's: no pre-vote while a leader is heard) is enough here", () => {
    const r = checkSync(storm, { params: { preVote: true } });
    expect(r.result).toBe('ok');
    expect(r.liveness?.[0]).toMatchObject({ name: STABLE, checked: true });
  });

  it("check-quorum alone keeps the leader but not the cut-off server's term: it climbs out of the modular window", () => {
    const r = checkSync(storm, { params: { checkQuorum: true } });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property).toEqual({ name: 'terms within 1 of each other (the window where terms modulo 6 are exact)', kind: 'invariant' });
  });

  it('no cut link, no storm: the difference is the partial partition', () => {
    const r = checkSync(storm, { params: { cut: 'none' } });
    expect(r.result).toBe('ok');
    expect(r.liveness?.[0]).toMatchObject({ name: STABLE, checked: true });
  });
});

describe('the variant replaces the server role', () => {
  it("a role override with a state schema of its own is not merged with raft's log server (its actions would run on a state they do not know)", () => {
    expect(Object.keys(storm.roles.server!.actions ?? {}).sort()).toEqual(['heartbeat', 'pass', 'timeout']);
    expect(storm.roles.server!.state).not.toBe(raft.roles.server!.state);
    expect(storm.roles.server!.durable).toBeUndefined();
  });
});

describe('bounded terms hide the storm', () => {
  it('with terms ≤ maxTerm the same configuration passes: the storm ends at the bound, with a leader in the last term', () => {
    for (const maxTerm of [3, 8]) {
      const r = checkSync(storm, { params: { terms: 'bounded', maxTerm } });
      expect(r.result, `maxTerm ${maxTerm}`).toBe('ok');
      expect(r.liveness?.[0]).toMatchObject({ name: STABLE, checked: true });
    }
  });
});

describe('modular terms', () => {
  it('compare as the real terms whenever the real difference is below M/2 (the window plus one step)', () => {
    const mod = (x: number) => ((x % TERM_MODULUS) + TERM_MODULUS) % TERM_MODULUS;
    fc.assert(fc.property(fc.nat(1_000_000), fc.integer({ min: -(TERM_MODULUS / 2 - 1), max: TERM_MODULUS / 2 - 1 }), (a, d) => {
      const b = a + d;
      expect(modularTerms.newer(mod(b), mod(a))).toBe(b > a);
      expect(modularTerms.newer(mod(a), mod(b))).toBe(a > b);
      expect(modularTerms.next(mod(a))).toBe(mod(a + 1));
    }));
  });
});

describe("raft's log-replicating server", () => {
  it('refuses the election model’s params with a param error', () => {
    expect(() => checkSync(raft, { params: { preVote: true } })).toThrow(/does not model preVote=true: these params are the election model's/);
  });
});

const STORM_STATES = 359;
const PRE_VOTE_STATES = 419;
