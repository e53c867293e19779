/**
 * docs/examples/two-phase-recovery-cluster.ts at small scale: the coordinator of a live
 * two-phase-recovery cluster is killed between PREPARE and COMMIT (each fault once), every
 * transaction resolves and none is half-committed, by the atomic-commit checker over the
 * recorded events; each broken variant is caught by the fault that exposes it. The blocking
 * figures (p50/p99, 50+ cycles per configuration) are in bench/commit-recovery.ts.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../docs/examples/two-phase-recovery-cluster.ts';

const quiet = (): void => {};

describe('docs/examples/two-phase-recovery-cluster.ts', () => {
  it('with a backup coordinator: every transaction resolves atomically under each fault', async () => {
    const r = await run({ cycles: 4, log: quiet });
    expect(r.cycles.map((c) => c.fault)).toEqual(['crash-before-decision', 'crash-at-decision', 'crash-after-first-decision', 'partition']);
    expect({ ok: r.ok, resolved: r.resolved, atomic: r.atomic }).toEqual({ ok: true, resolved: 4, atomic: 4 });
    // Crashed before deciding: presumed abort. Crashed once the decision was logged (and recorded): commit.
    expect(r.cycles.map((c) => c.outcome)).toEqual(['abort', 'commit', 'commit', 'abort']);
    expect(r.blockedP50).toBeGreaterThan(0);
  }, 30_000);

  it('without a backup: participants wait for the restarted coordinator, which answers from its log or presumes abort', async () => {
    const r = await run({ cycles: 3, backup: false, log: quiet });
    expect({ ok: r.ok, resolved: r.resolved, atomic: r.atomic }).toEqual({ ok: true, resolved: 3, atomic: 3 });
    expect(r.cycles.map((c) => c.outcome)).toEqual(['abort', 'commit', 'commit']);
    // Blocked at least as long as the coordinator was down (120 ms by default).
    expect(r.blockedP50).toBeGreaterThanOrEqual(100);
  }, 30_000);

  const exposing: [variant: string, fault: 'crash-at-decision' | 'crash-after-first-decision' | 'partition'][] = [
    ['abort-after-prepare', 'crash-at-decision'],
    ['decision-not-logged', 'crash-after-first-decision'],
    ['send-before-record', 'partition'],
  ];
  for (const [variant, fault] of exposing) {
    it(`--variant ${variant} is caught (${fault})`, async () => {
      const r = await run({ cycles: 1, variant, faults: [fault], log: quiet });
      expect(r.ok).toBe(false);
      expect(r.cycles[0]!.violations.map((v) => v.property)).toContain('agreement');
    }, 30_000);
  }
});
