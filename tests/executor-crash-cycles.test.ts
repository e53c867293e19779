/**
 * The crash-cycle benchmark (bench/crash-cycles.ts), short: one cycle per mode on the memory
 * transport — a crash, a torn tail, a flipped bit, an emptied log, a lost write — and every acknowledged put
 * read back, the history linearizable, the damaged replica reported and repaired.
 */
import { describe, expect, it } from 'vitest';
import { CYCLE_MODES, runCrashCycles } from './crash-cycles.ts';

describe('crash cycles on a 3-node raft-kv cluster', { timeout: 180_000 }, () => {
  for (const mode of CYCLE_MODES) {
    it(`${mode}: no acknowledged put lost, linearizable, available again`, async () => {
      const r = await runCrashCycles({ mode, cycles: 2, transport: 'memory', workMs: 150, seed: 3 });
      expect(r).toMatchObject({ lost: 0, readsWrong: 0, verdict: 'linearizable', unsettled: 0, failures: 0 });
      expect(r.ackedPuts).toBeGreaterThan(0);
      if (mode === 'bit-flip') expect(r).toMatchObject({ damaged: { 'corrupt-record': 2 }, repaired: 2 });
      if (mode === 'empty-log') expect(r).toMatchObject({ damaged: { 'empty-log': 2 }, repaired: 2 });
      // The high-water mark finds the log below it: reported, and the server repaired from a quorum.
      if (mode === 'lost-write') expect(r).toMatchObject({ damaged: { 'lost-write': 2 }, repaired: 2 });
      if (mode === 'torn-tail') expect(r.damaged['torn-tail']).toBe(2);
    });
  }
});
