/**
 * `pacta list --long`: one line per param and, per variant, the params and options of its
 * exposure and the flags that give them, within 100 columns; the default listing is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';

async function list(...args: string[]): Promise<string> {
  const io = memoryIO();
  expect(await main(['list', ...args], io)).toBe(0);
  return io.stdout;
}

describe('pacta list --long', () => {
  it('prints each param on a line, and each variant\'s exposure as params, options and flags', async () => {
    const out = await list('--long');
    expect(out).toMatch(/^two-phase-recovery {2}.*\n(?:.*\n)?  params\n {4}rms = 2\n {4}backup = true\n  checks under {2}--crashes 1\n  variants\n/m);
    expect(out).toContain(
      '    two-phase-recovery:decision-not-logged\n      params   backup=false\n      options  crashes=1\n      flags    --param backup=false --crashes 1\n',
    );
    expect(out).toContain('    two-phase:commit-early\n      exposed by the defaults\n');
    expect(out.split('\n').filter((l) => [...l].length > 100)).toEqual([]);
    expect(await list('-l')).toBe(out);
  });

  it('leaves the default listing as it was: variants on one line with their flags', async () => {
    const out = await list();
    expect(out).toMatch(/^ {12}two-phase-recovery:decision-not-logged {2}--param backup=false --crashes 1$/m);
    expect(out).not.toContain('exposed by the defaults');
  });
});
