/**
 * The frontier as a queue and as a stack, in memory and spilling to disk: the same entries
 * come out in the same order whatever the memory limit, and searches give the same counts.
 */
import { describe, expect, it } from 'vitest';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { checkSync } from './check.ts';
import { Frontier } from './frontier.ts';

function roundTrip(lifo: boolean, memoryBytesMax: number): { order: number[]; spilled: number } {
  const f = new Frontier(lifo, memoryBytesMax);
  const order: number[] = [];
  const bytes = new Uint8Array(300);
  let next = 0;
  // Interleave pushes and pops so chunks are spilled and read back mid-way.
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 500; k++) {
      bytes.fill(next & 0xff);
      f.push(next++, bytes, 100 + (next % 200));
    }
    for (let k = 0; k < 300 && f.length > 0; k++) {
      const i = f.pop();
      expect(f.current.length).toBe(100 + ((i + 1) % 200));
      expect(f.current[0]).toBe(i & 0xff);
      order.push(i);
    }
  }
  while (f.length > 0) order.push(f.pop());
  const spilled = f.spilledChunks;
  f.close();
  return { order, spilled };
}

describe('Frontier', () => {
  it('a queue gives entries back in order, spilled or not', () => {
    const inMemory = roundTrip(false, Number.POSITIVE_INFINITY);
    const spilling = roundTrip(false, 256 << 10);
    expect(inMemory.order).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect(spilling.order).toEqual(inMemory.order);
    expect(spilling.spilled).toBeGreaterThan(0);
  });

  it('a stack gives the same order spilled or not', () => {
    const inMemory = roundTrip(true, Number.POSITIVE_INFINITY);
    const spilling = roundTrip(true, 256 << 10);
    expect(spilling.order).toEqual(inMemory.order);
    expect(spilling.spilled).toBeGreaterThan(0);
  });

  it('BFS and DFS with a tiny memory budget for the frontier give the usual counts', () => {
    for (const mode of ['bfs', 'dfs'] as const) {
      const r = checkSync(twoPhase, { params: { rms: 6 }, mode, frontierMemoryBytes: 64 << 10 });
      expect(r.stats.distinctStates).toBe(50_816);
      // A DFS stack stays small here; the stack's spilling is tested above.
      if (mode === 'bfs') expect(r.stats.spilledBytes).toBeGreaterThan(0);
    }
  });
});
