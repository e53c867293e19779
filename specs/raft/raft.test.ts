/**
 * Raft and raft-kv: pinned state counts of bounded exhaustive configurations (BFS and DFS agree),
 * a fixed-budget random run on a deeper configuration, the broken variants caught (with the
 * checked-in counterexamples reproduced), and the brute-force linearizability check itself.
 *
 * Bounds of the pinned configurations (see docs/protocols/raft.md for the figures):
 * - raft: 3 servers, terms ≤ 2, logs ≤ 1 entry, 1 value, bag network with loss, ≤ 2 messages in
 *   flight; and the same with ≤ 1 message in flight and one crash.
 * - raft-kv: 3 servers, terms ≤ 2, one client issuing 2 operations (put 1, get) on one key,
 *   reads through the log, bag network, ≤ 1 message in flight (client requests and replies count).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../../checker/index.ts';
import raft from './raft.ts';
import raftKv, { keptForLinearizability, toKvInput, toKvOutput } from './raft-kv.ts';
import { checkLinearizability, kvModel } from '../../checker/linearizability/index.ts';
import { operationsOf } from '../../checker/history-properties.ts';
import type { HistoryEntry } from '../core/index.ts';

// symmetry: false: raft's check defaults turn it on; these pin the counts without it.
const bag2: CheckOptions = { network: 'bag', drop: true, maxInFlight: 2, symmetry: false };
const bag1: CheckOptions = { network: 'bag', drop: true, maxInFlight: 1, symmetry: false };

function example(name: string): { property: { name: string }; steps: unknown[] } {
  return JSON.parse(readFileSync(new URL(`../../traces/examples/${name}.json`, import.meta.url), 'utf8'));
}

describe('raft: bounded exhaustive search', () => {
  for (const mode of ['bfs', 'dfs'] as const) {
    // 23,462 before pipelining, 58,121 with optimistic heartbeats; the heartbeat timer now sends
    // again from matchIndex + 1 (consensus.ts, rewindToMatch), still a send moves nextIndex.
    it(`3 servers, terms ≤ 2, log ≤ 1, bag with loss, ≤ 2 in flight (${mode}): 30,743 states`, () => {
      const r = checkSync(raft, { ...bag2, mode });
      expect(r.result).toBe('ok');
      expect(r.stats.distinctStates).toBe(30_743);
      if (mode === 'bfs') expect(r.stats.depth).toBe(21);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }

  it('with one crash and ≤ 1 in flight: 11,875 states, invariants hold', () => {
    const r = checkSync(raft, { ...bag1, crashes: 1 });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(11_875);
  });

  it('liveness: a leader is eventually elected within the term bound (fair delivery and timers, reliable bag, one crash)', () => {
    const r = checkSync(raft, { network: 'bag', maxInFlight: 1, crashes: 1, symmetry: false, params: { leaderLiveness: true } });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(5_308);
    expect(r.liveness).toEqual([{ name: 'a leader is elected (within the term bound)', kind: 'eventually', checked: true }]);
  });

  it('random mode: 5 servers, terms ≤ 3, log ≤ 2, loss and 2 crashes, fixed budget', () => {
    const r = checkSync(raft, {
      mode: 'random', seed: 7, walks: 300, maxDepth: 80,
      params: { servers: 5, maxTerm: 3, maxLog: 2, values: 2 }, network: 'bag', drop: true, maxInFlight: 4, crashes: 2,
    });
    expect(r.result).toBe('ok'); // no walk found a violation; random walks prove nothing:
    expect(r.exhaustive).toBe(false);
    expect(r.goals.every((g) => g.reached)).toBe(true);
  });
});

describe('raft: broken variants are caught', () => {
  it('vote-twice: two leaders in term 2 after 8 steps', () => {
    const r = checkSync(raft.variant('vote-twice'), bag1);
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    expect(r.trace!.steps.length - 1).toBe(8);
    expect(example('raft-vote-twice').steps).toHaveLength(r.trace!.steps.length);
  });

  it('volatile-vote: a server that crashes forgets its vote and votes again (one crash)', () => {
    const r = checkSync(raft.variant('volatile-vote'), { ...bag1, crashes: 1 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/election safety/);
    expect(r.trace!.steps.map((s) => s.event.kind)).toContain('crash');
    expect(r.trace!.steps.length - 1).toBe(10);
    expect(example('raft-volatile-vote').steps).toHaveLength(r.trace!.steps.length);
    // Without crashes (overriding the variant's exposure) the variant is the protocol.
    expect(checkSync(raft.variant('volatile-vote'), { ...bag1, crashes: 0 }).result).toBe('ok');
  });

  it('commit-old-term (Figure 8, terms ≤ 5): a leader of a later term lacks a committed entry', () => {
    const r = checkSync(raft.variant('commit-old-term'), bag1);
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toBe('leader completeness');
    expect(r.trace!.steps.length - 1).toBe(27);
    expect(example('raft-commit-old-term').steps).toHaveLength(r.trace!.steps.length);
  });
});

describe('raft-kv', () => {
  const small = { params: { clients: 1, opsPerClient: 2 }, network: 'bag', maxInFlight: 1, symmetry: false } satisfies CheckOptions;

  for (const mode of ['bfs', 'dfs'] as const) {
    it(`log reads, one client (put, get), ≤ 1 in flight (${mode}): 138,776 states, linearizable`, () => {
      const r = checkSync(raftKv, { ...small, mode });
      expect(r.result).toBe('ok');
      expect(r.stats.distinctStates).toBe(138_776);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }

  // Batches of one entry: the no-op and both operations each need their own AppendEntries, the
  // `replicate` action sends them pipelined, and a follower behind is caught up one at a time.
  it('batch 1 (replicate on proposal, pipelined one entry at a time), ≤ 1 in flight (dfs): 126,920 states, linearizable', () => {
    const r = checkSync(raftKv, { ...small, params: { ...small.params, batch: 1 }, mode: 'dfs' });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(126_920);
    expect(r.goals.every((g) => g.reached)).toBe(true);
  });

  // ReadIndex: the get waits at the leader for a majority to acknowledge a round started after it
  // arrived and for its read index to be applied; the same per-key linearizability check.
  it('ReadIndex reads, one client (put, get), ≤ 1 in flight: 141,320 states, linearizable, a ReadIndex read is served', () => {
    const r = checkSync(raftKv, { ...small, params: { ...small.params, reads: 'index' } });
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(141_320);
    expect(r.goals.find((g) => g.name === 'a ReadIndex read is served')?.reached).toBe(true);
    expect(r.goals.every((g) => g.reached)).toBe(true);
  });

  it('follower-read-above-closed is caught: the read misses a write at or below its timestamp', () => {
    const r = checkSync(raftKv.variant('follower-read-above-closed'), { ...small, maxTime: 2 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/follower reads/);
    expect(example('raft-follower-read-above-closed').steps).toHaveLength(r.trace!.steps.length);
  });

  // Lease safety over the servers' clocks (w.clock): no clients needed, terms ≤ 3, an election
  // timeout of 1 tick, clocks that drift within ±1 (--clock-error 1), no true-time ticks.
  const lease = { params: { reads: 'lease', clients: 0, maxTerm: 3, electionTicks: 1 }, network: 'bag', maxInFlight: 1, symmetry: false } satisfies CheckOptions;

  it('lease-ignores-skew is caught by lease safety: a follower\'s fast clock ends its promise while the leader\'s lease lasts (BFS, 13 steps)', () => {
    const r = checkSync(raftKv.variant('lease-ignores-skew'), { ...lease, clockError: 1 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.name).toMatch(/lease safety/);
    expect(r.trace!.steps).toHaveLength(14); // the initial state and 13 events (the leader's persist among them)
    expect(r.trace!.steps.some((st) => st.event.kind === 'drift')).toBe(true);
    expect(example('raft-lease-ignores-skew').steps).toHaveLength(r.trace!.steps.length);
  });

  it('correct leases keep lease safety: a lease is held, time passes (≤ 1 tick), no violation in every state to depth 14', () => {
    const r = checkSync(raftKv, { ...lease, maxTime: 1, maxDepth: 14 });
    expect(r.result).toBe('incomplete'); // bounded by depth: every state to depth 14, no violation
    expect(r.stats.distinctStates).toBe(43_997);
    expect(r.goals.find((g) => g.name === 'a leader holds a valid lease')?.reached).toBe(true);
  });
});

describe("raft-kv's histories against the library's kv model (what its linearizable property checks)", () => {
  const linearizableRegister = (ops: ReturnType<typeof operationsOf>) => checkLinearizability(ops, kvModel).result !== 'not-linearizable';
  const operations = (hist: HistoryEntry[]) => operationsOf(hist, toKvInput as (op: unknown) => never, toKvOutput as (r: unknown) => never, keptForLinearizability as (op: unknown, r: unknown) => boolean);
  const h = (...entries: [string, number, number, unknown][]): HistoryEntry[] =>
    entries.map(([kind, client, id, x]) => (kind === 'invoke' ? { kind: 'invoke', client, id, op: x } : { kind: 'return', client, id, result: x }));
  const put1 = { kind: 'put', key: 0, value: 1 };
  const get = { kind: 'get', key: 0 };
  const val = (value: number) => ({ kind: 'value', value, via: 'log' });

  it('accepts a read concurrent with a write returning either value', () => {
    for (const v of [0, 1]) {
      const hist = h(['invoke', 3, 0, put1], ['invoke', 4, 0, get], ['return', 4, 0, val(v)], ['return', 3, 0, { kind: 'ok' }]);
      expect(linearizableRegister(operations(hist))).toBe(true);
    }
  });

  it('rejects a stale read after a completed write, and a read of a value never written', () => {
    const stale = h(['invoke', 3, 0, put1], ['return', 3, 0, { kind: 'ok' }], ['invoke', 4, 0, get], ['return', 4, 0, val(0)]);
    expect(linearizableRegister(operations(stale))).toBe(false);
    const phantom = h(['invoke', 4, 0, get], ['return', 4, 0, val(2)]);
    expect(linearizableRegister(operations(phantom))).toBe(false);
  });

  it('lets a pending write take effect or not', () => {
    const hist = h(['invoke', 3, 0, put1], ['invoke', 4, 0, get], ['return', 4, 0, val(1)], ['invoke', 4, 1, get], ['return', 4, 1, val(1)]);
    expect(linearizableRegister(operations(hist))).toBe(true);
    const flip = h(['invoke', 3, 0, put1], ['invoke', 4, 0, get], ['return', 4, 0, val(1)], ['invoke', 4, 1, get], ['return', 4, 1, val(0)]);
    expect(linearizableRegister(operations(flip))).toBe(false);
  });

  it('checks cas results against the register', () => {
    const cas = { kind: 'cas', key: 0, from: 1, to: 2 };
    const bad = h(['invoke', 3, 0, cas], ['return', 3, 0, { kind: 'cas', ok: true }]);
    expect(linearizableRegister(operations(bad))).toBe(false);
    const good = h(['invoke', 3, 0, put1], ['return', 3, 0, { kind: 'ok' }], ['invoke', 3, 1, cas], ['return', 3, 1, { kind: 'cas', ok: true }]);
    expect(linearizableRegister(operations(good))).toBe(true);
  });
});
