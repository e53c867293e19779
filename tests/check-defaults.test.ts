/**
 * `checkDefaults` (ProtocolDef): the check options a bare check of a protocol uses unless the user
 * gives its own; its variants start from them, their `expose` adding to and overriding them.
 */
import { describe, expect, it } from 'vitest';
import { checkSync } from '../checker/index.ts';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { defineProtocol } from '../specs/core/index.ts';

const withDefaults = defineProtocol({ ...twoPhase, checkDefaults: { crashes: 1 } });

describe('checkDefaults', () => {
  it("a bare check uses them; the user's options win", () => {
    expect(withDefaults.exposure).toEqual({ options: { crashes: 1 } });
    expect(checkSync(withDefaults, {}).stats.distinctStates).toBe(1_728); // two-phase with --crashes 1 (pinned in two-phase.test.ts)
    expect(checkSync(withDefaults, { crashes: 0 }).stats.distinctStates).toBe(288);
    expect(twoPhase.exposure).toBeUndefined();
  });

  it('variants start from them', () => {
    expect(withDefaults.variant('commit-early').exposure).toEqual({ options: { crashes: 1 } });
    expect(withDefaults.variant('volatile-rm').exposure).toEqual({ options: { crashes: 1 } });
    expect(twoPhase.variant('commit-early').exposure).toEqual({});
  });

  it('pacta list shows them', async () => {
    const io = memoryIO();
    expect(await main(['list'], io)).toBe(0);
    expect(io.stdout).toMatch(/two-phase-recovery .*\n.*\n  params    rms=2 backup=true\n  checks    --crashes 1\n/);
  });
});
