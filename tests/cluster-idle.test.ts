/**
 * `cluster.idle()` waits for frames in flight (memory network with delays, udp and tcp sockets)
 * and, with `timersWithinMs`, for action timers due within that bound; it gives up with
 * `Cluster.idle/timeout` naming what stayed busy. Before, it returned as soon as no node had an
 * input queued, while frames were still on the way.
 */
import { describe, expect, it } from 'vitest';
import { simulatedClock, startCluster } from '../impl/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

type Tm = { phase: string; prepared: number[] };

describe('cluster.idle()', () => {
  it('waits for a frame the memory network delivers 40 ms later', async () => {
    const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, syncMode: 'none', faults: { delayMsMin: 40, delayMsMax: 40 } });
    try {
      expect(await cluster.fire(1, 'prepare')).toBe(true); // the `prepared` frame is on its way to the TM
      expect(cluster.network!.deliveriesPending).toBe(1);
      await cluster.idle();
      expect(cluster.network!.deliveriesPending).toBe(0);
      expect(cluster.state<Tm>(0)!.prepared).toEqual([1]);
    } finally {
      await cluster.close();
    }
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`waits until every frame sent over ${transport} was received`, async () => {
      const cluster = await startCluster(twoPhase, { transport, nodes: 4, syncMode: 'none' });
      try {
        for (const rm of [1, 2, 3]) expect(await cluster.fire(rm, 'prepare')).toBe(true);
        await cluster.idle();
        expect(cluster.state<Tm>(0)!.prepared).toEqual([1, 2, 3]);
      } finally {
        await cluster.close();
      }
    });
  }

  it('with timersWithinMs, waits for the action timers due within it, until the run decides', async () => {
    const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, syncMode: 'none', seed: 3, defaultTimerMs: [30, 30] });
    try {
      expect(cluster.state<Tm>(0)!.phase).toBe('init');
      await cluster.idle({ timersWithinMs: 100, timeoutMs: 4000 });
      const tm = cluster.state<Tm>(0)!;
      expect(['committed', 'aborted']).toContain(tm.phase);
      // Decided: no action is enabled anywhere, so no timer is armed.
      for (const id of cluster.nodes) expect(cluster.node(id).nextTimerDueMs).toBeUndefined();
    } finally {
      await cluster.close();
    }
  });

  it('with the default bound, does not wait for a timer due later', async () => {
    const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, syncMode: 'none', defaultTimerMs: [10_000, 10_000] });
    try {
      const started = Date.now();
      await cluster.idle();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(cluster.state<Tm>(0)!.phase).toBe('init');
    } finally {
      await cluster.close();
    }
  });

  it('rejects with Cluster.idle/timeout when timers keep falling due within the bound', async () => {
    const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, syncMode: 'none', defaultTimerMs: [10_000, 10_000] });
    try {
      await expect(cluster.idle({ timersWithinMs: 60_000, timeoutMs: 50 })).rejects.toMatchObject({ code: 'Cluster.idle/timeout' });
      await expect(cluster.idle({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'Cluster.idle/bad-option' });
    } finally {
      await cluster.close();
    }
  });

  it('under a simulated clock, returns without advancing it (the driver advances)', async () => {
    const clock = simulatedClock();
    const cluster = await startCluster(twoPhase, { transport: 'memory', nodes: 4, clock, syncMode: 'none', faults: { delayMsMin: 5, delayMsMax: 5 } });
    try {
      expect(await cluster.fire(1, 'prepare')).toBe(true);
      await cluster.idle({ timeoutMs: 1000 });
      expect(cluster.state<Tm>(0)!.prepared).toEqual([]);
      clock.advance(5);
      await cluster.idle();
      expect(cluster.state<Tm>(0)!.prepared).toEqual([1]);
    } finally {
      await cluster.close();
    }
  });
});
