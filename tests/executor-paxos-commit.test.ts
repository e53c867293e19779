/**
 * docs/examples/paxos-commit-cluster.ts at small scale: on a live paxos-commit cluster the
 * coordinator is killed once every RM has voted (alone, and with an acceptor), every transaction
 * resolves through the backup leader's takeover and none is half-committed, by the atomic-commit
 * checker over the recorded events; the broken acceptor is caught by the late vote. Blocking
 * figures over many transactions: bench/commit-recovery.ts.
 */
import { describe, expect, it } from 'vitest';
import { faults, run } from '../docs/examples/paxos-commit-cluster.ts';

const quiet = (): void => {};

describe('docs/examples/paxos-commit-cluster.ts', () => {
  it('every transaction resolves atomically under each fault; the coordinator crash blocks no one for long', async () => {
    const r = await run({ cycles: faults.length, log: quiet });
    expect(r.cycles.map((c) => c.fault)).toEqual(['none', 'crash-coordinator', 'crash-coordinator-acceptor', 'late-vote']);
    expect({ ok: r.ok, resolved: r.resolved, atomic: r.atomic }).toEqual({ ok: true, resolved: 4, atomic: 4 });
    // Every vote was accepted before the crash: the backup leader learns them and commits. The late vote is refused: abort.
    expect(r.cycles.map((c) => c.outcome)).toEqual(['commit', 'commit', 'commit', 'abort']);
  }, 30_000);

  it('--variant accept-below-promise is caught (late-vote): the coordinator commits what the backup leader aborted', async () => {
    const r = await run({ cycles: 1, variant: 'accept-below-promise', faults: ['late-vote'], log: quiet });
    expect(r.ok).toBe(false);
    expect(r.cycles[0]!.outcome).toBe('mixed');
    expect(r.cycles[0]!.violations.map((v) => v.property)).toContain('agreement');
  }, 30_000);
});
