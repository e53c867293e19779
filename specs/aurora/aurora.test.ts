/**
 * Aurora: pinned state counts of bounded exhaustive configurations (the defaults: one commit, one
 * writer crash at any point, AZ+1 segment losses, a replica), the membership change by random
 * walks, the segments' handlers on the situations the model reaches only deep down, and the
 * checked-in counterexamples of the broken variants (each bare `pacta check aurora:VARIANT` is
 * run by tests/variants-caught.test.ts; the traces replay in tests/traces-replay.test.ts).
 *
 * Larger configurations (two writer crashes, two-record mini-transactions, two clients) pass too
 * but take minutes: their counts are in docs/protocols/aurora.md with the commands.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSync } from '../../checker/index.ts';
import type { Ctx, Out } from '../core/index.ts';
import { Layout } from '../core/layout.ts';
import aurora, { type AuroraMsg, type AuroraStorage } from './aurora.ts';

function example(variant: string): { property: { name: string }; steps: { event: { kind: string; action?: string } }[] } {
  return JSON.parse(readFileSync(new URL(`../../traces/examples/aurora.${variant}.json`, import.meta.url), 'utf8'));
}

describe('aurora: bounded exhaustive search', () => {
  it('defaults (1 commit, 1 writer crash, up to 3 segments lost, a replica): 173,003 states, every goal reached', () => {
    const r = checkSync(aurora, {});
    expect(r.result).toBe('ok');
    expect(r.stats.distinctStates).toBe(173_003);
    expect(r.stats.depth).toBe(27);
    expect(r.goals.map((g) => [g.name, g.reached])).toEqual([
      ['a commit is acknowledged', true],
      ['a recovered writer acknowledges a commit', true],
      ['AZ+1: three segments lost after a commit was acknowledged', true],
      ['a replica applies a commit', true],
    ]);
  }, 180_000);

  for (const mode of ['bfs', 'dfs'] as const) {
    it(`no segment lost, no replica (${mode}): 4,484 states`, () => {
      const r = checkSync(aurora, { mode, params: { failures: 0, replicas: 0 } });
      expect(r.result).toBe('ok');
      expect(r.stats.distinctStates).toBe(4_484);
      expect(r.goals.every((g) => g.reached)).toBe(true);
    });
  }
});

describe('aurora: membership change (random walks)', () => {
  it('F replaced by G through dual quorums, no violation, the change completes', () => {
    const r = checkSync(aurora, {
      mode: 'random', seed: 1, walks: 400, maxDepth: 120, params: { membership: true, failures: 0, writerCrashes: 0, replicas: 0 },
    });
    expect(r.result).toBe('ok');
    expect(r.exhaustive).toBe(false);
    expect(r.goals.find((g) => g.name.startsWith('a segment is replaced'))?.reached).toBe(true);
  }, 120_000);
});

describe('aurora: segment handlers', () => {
  const params = { ...aurora.params, coalesce: true };
  // Node ids: writer 0, storage 1..6, replica 7, client 8; the handlers run as storage1.
  const ctx = new Layout(aurora, params).ctxs[1] as Ctx<typeof params>;
  const sent: AuroraMsg[] = [];
  const out = { send: (_to: number, m: AuroraMsg) => sent.push(m), broadcast() {}, reply() {}, now: () => 0, trueTime: () => ({ earliest: 0, latest: 0 }) } as Out<AuroraMsg>;
  const seg = (log: AuroraStorage['log'], epoch = 2): AuroraStorage => ({
    failed: false, epoch, mepoch: 1, config: { old: [1, 2, 3, 4, 5, 6], neu: [] }, cut: { epoch: 0, vdl: 0, end: 0 }, base: 0, baseEpoch: 0, txns: [], log,
  });
  const onMessage = aurora.roles.storage!.onMessage!;

  it('the new epoch\'s first record truncates what an older epoch left above its backlink', () => {
    // Epoch 1 left 1 (a commit) and 2..3 (an MTR in flight); epoch 2 recovered VDL 1 and starts at 6.
    const s = seg([
      { lsn: 1, prev: 0, pe: 0, epoch: 1, txn: 1, cpl: true }, { lsn: 2, prev: 1, pe: 1, epoch: 1, txn: 2, cpl: false },
      { lsn: 3, prev: 2, pe: 1, epoch: 1, txn: 2, cpl: true },
    ], 1);
    const n = onMessage(s, 0, { kind: 'write', epoch: 2, vdl: 0, rec: { lsn: 6, prev: 1, pe: 1, epoch: 2, txn: 3, cpl: true } }, out, ctx) as AuroraStorage;
    expect(n.log.map((r) => r.lsn)).toEqual([1, 6]);
    expect(n.cut).toEqual({ epoch: 2, vdl: 1, end: 5 });
    expect(n.epoch).toBe(2);
  });

  it('a late write of an older epoch is refused; a stale branch does not attach below a newer one', () => {
    const s = seg([{ lsn: 1, prev: 0, pe: 0, epoch: 1, txn: 1, cpl: true }, { lsn: 6, prev: 1, pe: 1, epoch: 2, txn: 3, cpl: true }]);
    const late = { kind: 'write' as const, epoch: 1, vdl: 0, rec: { lsn: 2, prev: 1, pe: 1, epoch: 1, txn: 2, cpl: true } };
    expect(onMessage(s, 0, late, out, ctx)).toBe(s);
    const fill = { kind: 'fill' as const, epoch: 1, base: 0, baseEpoch: 0, txns: [], recs: [late.rec] };
    expect(onMessage(s, 2, fill, out, ctx)).toBe(s);
  });

  it('a segment folds only its writer\'s chain into pages, never a stale branch at its head', () => {
    // Epoch 1 left commit 1 here, which recovery did not keep; epoch 2 writes 7 (after 6, not here yet) with VDL 6.
    const s = seg([{ lsn: 1, prev: 0, pe: 0, epoch: 1, txn: 1, cpl: true }]);
    const n = onMessage(s, 0, { kind: 'write', epoch: 2, vdl: 6, rec: { lsn: 7, prev: 6, pe: 2, epoch: 2, txn: 4, cpl: true } }, out, ctx) as AuroraStorage;
    expect(n.base).toBe(0);
    expect(n.txns).toEqual([]);
    // Once it holds the writer's chain, what is at or below VDL is folded.
    const m = onMessage(seg([{ lsn: 6, prev: 0, pe: 0, epoch: 2, txn: 3, cpl: true }]), 0,
      { kind: 'write', epoch: 2, vdl: 6, rec: { lsn: 7, prev: 6, pe: 2, epoch: 2, txn: 4, cpl: true } }, out, ctx) as AuroraStorage;
    expect([m.base, m.txns, m.log.map((r) => r.lsn)]).toEqual([6, [[3, 3]], [7]]);
  });
});

describe('aurora: the broken variants\' counterexamples (traces/examples/aurora.*.json)', () => {
  const cases: [variant: string, property: RegExp][] = [
    ['write-quorum-3', /no acknowledged commit is lost/],
    ['read-quorum-2', /a recovered writer keeps every commit acknowledged before it/],
    ['ack-before-vdl', /no acknowledged commit is lost/],
    ['no-truncate', /the writer's log .* ends at a consistency point/],
    ['no-epoch-bump', /a segment holds one backlink chain below its SCL/],
    ['single-quorum-membership', /no acknowledged commit is lost/],
  ];
  for (const [variant, property] of cases) {
    it(`${variant}: violates "${property.source}"`, () => {
      const t = example(variant);
      expect(t.property.name).toMatch(property);
    });
  }

  it('the fencing and truncation traces go through a writer crash; the others need none', () => {
    const crashes = (v: string): number => example(v).steps.filter((s) => s.event.kind === 'action' && s.event.action === 'crash').length;
    expect(crashes('read-quorum-2')).toBe(1);
    expect(crashes('no-truncate')).toBe(1);
    expect(crashes('no-epoch-bump')).toBe(1);
    expect(crashes('write-quorum-3') + crashes('ack-before-vdl') + crashes('single-quorum-membership')).toBe(0);
  });
});
