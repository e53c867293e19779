/**
 * docs/examples/cockroach-cluster.ts on the executor: with node 0's clock ahead within max_offset
 * the recorded history is serializable and no key has a stale read; with it ahead beyond
 * max_offset (the protocol unchanged) the per-key strict-serializability check flags a stale read.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../docs/examples/cockroach-cluster.ts';

describe('docs/examples/cockroach-cluster.ts', () => {
  it('clocks within max_offset: serializable, no stale read', async () => {
    const r = await main({ seconds: 2, log: () => {} });
    expect(r.committed).toBeGreaterThan(0);
    expect({ serializable: r.serializable, staleKeys: r.staleKeys }).toEqual({ serializable: true, staleKeys: [] });
  }, 30_000);

  it('node 0 beyond max_offset: a stale read is flagged by the history checker', async () => {
    const r = await main({ seconds: 2, skewBeyond: true, log: () => {} });
    expect(r.staleKeys.length).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
  }, 30_000);
});
