/**
 * The checked-in counterexamples of two-phase-recovery and paxos-commit replay on the executor
 * too (`pacta replay --executor`): the handlers the model checker ran reach the trace's states,
 * node for node, on a live cluster (crash and restart from the durable log included).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

const examples = join(import.meta.dirname, '..', 'traces', 'examples');
const files = readdirSync(examples).filter((f) => /^(two-phase-recovery|paxos-commit)\..*\.json$/.test(f)).sort();

describe('pacta replay --executor: commit-recovery traces', () => {
  it('there is one per variant', () => {
    expect(files).toEqual([
      'paxos-commit.accept-below-promise.json',
      'two-phase-recovery.abort-after-prepare.json',
      'two-phase-recovery.decision-not-logged.json',
      'two-phase-recovery.send-before-record.json',
    ]);
  });
  for (const file of files) {
    it(`${file} replays on the executor`, async () => {
      const io = memoryIO();
      expect(await main(['replay', join(examples, file), '--executor'], io)).toBe(0);
      expect(io.stdout).toMatch(/replays on the executor: all \d+ steps reach the trace's states/);
    }, 30_000);
  }
});
