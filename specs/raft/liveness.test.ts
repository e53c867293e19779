/**
 * Raft liveness in the term-bounded model (liveness.ts): raft-kv's "every client request is
 * eventually answered", pinned at a small bound, and shown not vacuous (without fair
 * replication it fails, with a lasso).
 */
import { describe, expect, it } from 'vitest';
import { defineProtocol, type AnyRole } from '../core/index.ts';
import { checkSync } from '../../checker/check.ts';
import raftKv from './raft-kv.ts';

const small = { params: { requestLiveness: true, clients: 1, opsPerClient: 1 } };

describe('raft-kv: every client request is eventually answered (within the term bound)', () => {
  it('holds with fair delivery, timers, vote requests and replication (bag, ≤ 1 in flight, terms ≤ 2)', () => {
    const r = checkSync(raftKv, small);
    expect(r.result).toBe('violation'); // only the goal "a read returns a written value" (one put, no get)
    if (r.result !== 'violation') return;
    expect(r.property.kind).toBe('reachable');
    expect(r.liveness).toEqual([{ name: 'every client request is eventually answered (within the term bound)', kind: 'leadsTo', checked: true }]);
    expect(r.stats.distinctStates).toBe(STATES);
  });

  it('fails when the leader need not replicate (appendEntries unfair): a request waits for ever', () => {
    const server = raftKv.roles.server as AnyRole;
    const lazy = defineProtocol({
      ...raftKv,
      roles: { server: { ...server, actions: { ...server.actions, appendEntries: { ...server.actions!.appendEntries!, fair: undefined } } } },
    });
    const r = checkSync(lazy, small);
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property).toEqual({ name: 'every client request is eventually answered (within the term bound)', kind: 'leadsTo' });
    expect(r.trace!.loopStart).toBeDefined();
  });
});

/** Pinned: a change here is a change in the semantics (bag, ≤ 1 in flight, 1 client × 1 put). */
describe('raft-kv request liveness in random mode', () => {
  it('a state where the in-flight bound cuts every delivery is no place for a run to stop (no false "real" violation)', () => {
    // A client's invocation is allowed past the bound; the replies its delivery would send are cut.
    const r = checkSync(raftKv, { ...small, mode: 'random', seed: 1, walks: 100 });
    expect(r.result).toBe('ok');
    expect(r.liveness?.[0]).toMatchObject({ checked: true, bounded: true });
  });
});

const STATES = 22_824;
