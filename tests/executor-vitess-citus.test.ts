/**
 * docs/examples/vitess-cluster.ts and docs/examples/citus-cluster.ts run as documented, at small
 * scale: the coordinator is killed between PREPARE and COMMIT (and shards, workers, the MM crash
 * and restart) a few times, and every transaction ends resolved, none half-committed; without
 * recovery the prepared participants stay blocked; a broken variant is caught live.
 * The 60-cycle runs with blocked-time figures are in bench/cross-shard.ts.
 */
import { describe, expect, it } from 'vitest';
import { run as runCitus } from '../docs/examples/citus-cluster.ts';
import { run as runVitess } from '../docs/examples/vitess-cluster.ts';

const quiet = (): void => {};

describe('docs/examples/vitess-cluster.ts', () => {
  it('4 fault cycles (VTGate killed after prepare and after the decision, an RM reparented, the MM restarted): all resolved atomically', async () => {
    const r = await runVitess({ cycles: 4, log: quiet });
    expect(r.broken).toEqual([]);
    expect(r.unresolved).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.transactions).toBe(5);
    expect(r.committed).toBeGreaterThanOrEqual(2); // the decision-made cycle and the last one
    expect(r.blocked.count).toBeGreaterThanOrEqual(4);
    expect(r.blocked.open).toBe(0);
  }, 30_000);

  it('without the watchdog, the transactions VTGate abandoned stay prepared (blocking), yet none is split', async () => {
    const r = await runVitess({ cycles: 2, recovery: false, settleMs: 300, log: quiet });
    expect(r.ok).toBe(false);
    expect(r.broken).toEqual([]);
    expect(r.blocked.open).toBeGreaterThan(0);
  }, 30_000);

  it('--variant commit-prepared-after-reparent: a reparented RM reports a commit it did not do', async () => {
    const r = await runVitess({ variant: 'commit-prepared-after-reparent', cycles: 3, settleMs: 1500, log: quiet });
    expect(r.ok).toBe(false);
    expect(r.broken.join(' ')).toMatch(/the client was told committed|lost on/);
  }, 30_000);
});

describe('docs/examples/citus-cluster.ts', () => {
  it('4 fault cycles (the coordinator killed before and after its local commit, a worker crashed, a deadlock): all resolved atomically', async () => {
    const r = await runCitus({ cycles: 4, log: quiet });
    expect(r.broken).toEqual([]);
    expect(r.unresolved).toEqual([]);
    expect(r.referenceDiverged).toBe(false);
    expect(r.ok).toBe(true);
    expect(r.deadlocks).toBe(1);
    expect(r.blocked.open).toBe(0);
  }, 30_000);

  it('--variant record-outside-transaction: the crashed coordinator\'s records make recovery commit an aborted transaction', async () => {
    const r = await runCitus({ variant: 'record-outside-transaction', cycles: 1, settleMs: 2000, log: quiet });
    expect(r.ok).toBe(false);
    expect(r.broken.join(' ')).toMatch(/committed while .* aborted/);
  }, 30_000);
});
