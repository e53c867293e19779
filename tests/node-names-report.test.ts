/**
 * Node names everywhere a person reads a counterexample: `pacta check`'s violation report and
 * `assertSpec`'s message name the nodes inside states (`tm.prepared: [] → [rm1]`), as
 * `pacta show` does; trace files keep the ids replay needs.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSpec, SpecCheckFailure } from '../checker/index.ts';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

describe('node names in failure reports', () => {
  it('pacta check names the nodes inside states; the trace file keeps ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pacta-names-'));
    const io = memoryIO(dir);
    expect(await main(['check', 'two-phase:abort-after-commit'], io)).toBe(1);
    expect(io.stdout).toMatch(/tm\.prepared: \[\] → \[rm1\]/);
    const [file] = readdirSync(join(dir, 'pacta-traces'));
    const trace = JSON.parse(readFileSync(join(dir, 'pacta-traces', file!), 'utf8'));
    expect(trace.steps[2].state.nodes[0].state.prepared).toEqual([1]);
  });

  it("assertSpec's message names them too", async () => {
    const failure = await assertSpec(twoPhase.variant('abort-after-commit')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SpecCheckFailure);
    expect((failure as Error).message).toMatch(/tm\.prepared: \[\] → \[rm1\]/);
  });
});
