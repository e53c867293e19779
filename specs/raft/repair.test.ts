/**
 * Protocol-aware recovery (repair mode), checked on the model before the checker has
 * `--disk-faults`: server 1 may lose its disk any number of times (specs/raft/disk-faults.ts
 * emulates it in spec code), and the correct servers keep every invariant; the variant
 * `truncate-on-corruption`, whose servers take what they could read as the truth, breaks election
 * safety (a forgotten vote) and leader completeness (a forgotten entry).
 * Longer runs: bench/raft-disk-faults.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../../checker/index.ts';
import { defineProtocol, type AnyRole } from '../core/index.ts';
import { diskFaultAction, withEmulatedDiskFaults } from './disk-faults.ts';
import { electionSafety } from './properties.ts';
import raft from './raft.ts';
import raftKv from './raft-kv.ts';

const bag1: CheckOptions = { network: 'bag', drop: true, maxInFlight: 1, symmetry: false }; // raft's check defaults turn symmetry on

describe('raft with a damaged disk (emulated)', () => {
  it('repair mode keeps every invariant: 3 servers, terms ≤ 2, log ≤ 1, bag with loss, ≤ 1 in flight: 29,688 states', () => {
    const r = checkSync(withEmulatedDiskFaults(raft), bag1);
    expect(r.result).toBe('ok');
    expect(r.goals.every((g) => g.reached)).toBe(true);
    expect(r.stats.distinctStates).toBe(29_688);
  });

  it('a lost write that the storage detects (a high-water mark flushed apart) is repaired like a corrupted record: every invariant holds, 29,688 states', () => {
    const r = checkSync(withEmulatedDiskFaults(raft, { damage: 'lost-write' }), bag1);
    expect(r.result).toBe('ok');
    expect(r.goals.every((g) => g.reached)).toBe(true);
    expect(r.stats.distinctStates).toBe(29_688);
  });

  it('a lost write that the storage cannot see (emulated: an older durable state, no hook) breaks election safety: the server votes again in a term', () => {
    // raft:undetected-lost-write is this server under the checker's own lost writes (tests/disk-faults.test.ts).
    const server = raft.roles.server as AnyRole;
    const undetected = defineProtocol({ ...raft, variants: undefined, roles: { server: { ...server, actions: { ...server.actions, lostWrite: diskFaultAction(server, 'lost-write', true) } } } });
    const r = checkSync(undetected, bag1);
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    expect(r.trace!.steps.some((s) => s.event.kind === 'action' && s.event.action === 'lostWrite')).toBe(true);
  });

  it('truncate-on-corruption breaks election safety: a server that lost its vote votes again in the same term', () => {
    const r = checkSync(withEmulatedDiskFaults(raft.variant('truncate-on-corruption')), { ...bag1, crashes: 0 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    expect(r.trace!.steps.some((s) => s.event.kind === 'action' && s.event.action === 'diskFault')).toBe(true);
  });

  it('truncate-on-corruption breaks leader completeness when the vote survives and the log does not (terms ≤ 3)', () => {
    const variant = withEmulatedDiskFaults(raft.variant('truncate-on-corruption'), { properties: (all) => all.filter((p) => p !== electionSafety) });
    const r = checkSync(variant, { ...bag1, crashes: 0, params: { maxTerm: 3 } });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/leader completeness|state-machine safety/);
  });

  it('raft-kv: random walks with server 1 losing its disk find no violation (fixed budget)', () => {
    const r = checkSync(withEmulatedDiskFaults(raftKv), {
      mode: 'random', seed: 3, walks: 300, maxDepth: 60, network: 'bag', drop: true, maxInFlight: 2, params: { clients: 1, opsPerClient: 2 },
    });
    expect(r.result).toBe('ok');
  });
});
