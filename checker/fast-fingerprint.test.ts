/**
 * The fast path of successor enumeration: a successor's fingerprint computed from its parent's
 * and a remembered handler outcome, before the successor exists, must equal the fingerprint of
 * the successor built, packed and decoded from scratch. Checked on every successor the fast
 * path produces over bounded searches of the bundled specs on the set and bag networks,
 * including clients (history in the fingerprint), a clock, crashes, drops, duplicates and an
 * in-flight bound.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../specs/core/index.ts';
import raft from '../specs/raft/raft.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { Model } from './model.ts';
import { normalizeOptions, type CheckOptions } from './options.ts';
import type { WorldState } from './world.ts';

/** BFS over up to `limit` states; returns how many fast fingerprints were compared. */
function compareFastFingerprints(spec: Protocol, options: CheckOptions, limit: number): number {
  const model = new Model(spec, normalizeOptions(spec, options));
  const world = model.world;
  const visited = new Set<string>();
  const queue: Uint8Array[] = [world.encode(world.initial()).slice()];
  const scratchFp = new Uint32Array(2);
  let pending: [number, number] | null = null;
  let compared = 0;
  const key = (s: WorldState): string => {
    world.fingerprintInto(world.decode(world.encode(s).slice()), scratchFp);
    return `${scratchFp[0]}:${scratchFp[1]}`;
  };
  const seen = (hi: number, lo: number): boolean => {
    pending = [hi, lo];
    return false; // build every successor, so each fast fingerprint can be checked
  };
  const visit = (next: WorldState): void => {
    const k = key(next);
    if (pending) {
      expect(`${pending[0]}:${pending[1]}`).toBe(k);
      world.fingerprintInto(next, scratchFp); // the built successor reuses the fast fingerprint
      expect(`${scratchFp[0]}:${scratchFp[1]}`).toBe(k);
      compared++;
      pending = null;
    }
    if (!visited.has(k) && visited.size < limit) {
      visited.add(k);
      queue.push(world.encode(next).slice());
    }
  };
  for (let i = 0; i < queue.length; i++) {
    world.successors(world.decode(queue[i]!), visit, seen);
  }
  return compared;
}

describe('fast fingerprints equal fingerprints computed from scratch', () => {
  it('two-phase and its variants, with crashes', () => {
    expect(compareFastFingerprints(twoPhase, { params: { rms: 3 } }, 1e6)).toBeGreaterThan(700);
    for (const v of ['commit-early', 'rm-ignores-abort', 'abort-after-commit']) {
      expect(compareFastFingerprints(twoPhase.variant(v), { params: { rms: 3 } }, 1e6)).toBeGreaterThan(1000);
    }
    expect(compareFastFingerprints(twoPhase.variant('volatile-rm'), { params: { rms: 3 }, crashes: 1 }, 1e6)).toBeGreaterThan(4000);
  });

  it('raft on the set network, with an in-flight bound and a clock', () => {
    const opts = { network: 'set', maxInFlight: 4, crashes: 1, params: { maxTerm: 2, maxLog: 1 } } satisfies CheckOptions;
    expect(compareFastFingerprints(raft, opts, 3000)).toBeGreaterThan(5000);
    expect(compareFastFingerprints(raft, { ...opts, maxTime: 2, clockError: 1 }, 3000)).toBeGreaterThan(5000);
  });

  it('the bag network: consumed copies, repeated sends, drops and duplicates', () => {
    expect(compareFastFingerprints(twoPhase, { params: { rms: 3 }, network: 'bag', drop: true, dup: true, maxInFlight: 4 }, 1e6)).toBeGreaterThan(1000);
    const opts = { network: 'bag', drop: true, dup: true, maxInFlight: 3, crashes: 1, params: { maxTerm: 2, maxLog: 1 } } satisfies CheckOptions;
    expect(compareFastFingerprints(raft, opts, 3000)).toBeGreaterThan(5000);
    expect(compareFastFingerprints(raftKv, { network: 'bag', maxInFlight: 2, params: { clients: 1, opsPerClient: 2 } }, 3000)).toBeGreaterThan(500);
  });

  it('raft-kv with clients (the history is part of the fingerprint)', () => {
    const opts = { network: 'set', maxInFlight: 3, params: { clients: 1, opsPerClient: 2 } } satisfies CheckOptions;
    expect(compareFastFingerprints(raftKv, opts, 5000)).toBeGreaterThan(1000);
  });
});
