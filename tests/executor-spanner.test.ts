/**
 * docs/examples/spanner-cluster.ts on the executor: the correct protocol's recorded histories are
 * externally consistent; the no-commit-wait variant, run under a simulated clock whose nodes are
 * skewed within ε, records a history the transaction checker flags (a strong read that started
 * after a transfer returned reads below the transfer's commit timestamp and misses it).
 */
import { describe, expect, it } from 'vitest';
import { main, skewedRun } from '../docs/examples/spanner-cluster.ts';

describe('docs/examples/spanner-cluster.ts', () => {
  it('under a simulated clock with skew: commit wait makes the later read see the transfer', async () => {
    const r = await skewedRun();
    expect(r.verdict.ok).toBe(true);
    expect(r.readTs).toBeGreaterThan(r.commitTs);
    expect(r.reads.map((x) => x?.n)).toEqual([99, 101]);
  }, 30_000);

  it('under the same clock, no-commit-wait answers before s passes and the later read misses the transfer: flagged', async () => {
    const r = await skewedRun('no-commit-wait');
    expect(r.readTs).toBeLessThan(r.commitTs);
    expect(r.reads).toEqual([null, null]);
    expect(r.verdict.externallyConsistent).toBe(false);
    expect(r.verdict.anomalies.join('\n')).toMatch(/G-single-realtime/);
  }, 30_000);

  it('runs the live workload (transfers, strong and snapshot reads) with a leader crash, a partition and lossy links', async () => {
    const lines: string[] = [];
    const r = await main({ seconds: 2, clients: 3, log: (line) => lines.push(line) });
    expect(r.committed).toBeGreaterThan(0);
    expect(r.readOnly).toBeGreaterThan(0);
    expect(r.earlyCommits).toBe(0);
    expect(r.verdict).toMatchObject({ externallyConsistent: true, serializable: true, bankTotal: true, ok: true });
    expect(lines.join('\n')).toMatch(/crashed replica \d \(leader of group 0\)/);
  }, 60_000);
});
