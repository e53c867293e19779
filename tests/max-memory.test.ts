/**
 * A memory bound stops an exhaustive run with a partial result (`incomplete`, reason `memory`,
 * exit 3 and a hint from the CLI) instead of letting it grow until the kernel kills it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSync } from '../checker/index.ts';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

/**
 * A bound a little above what this process holds at the start: the first run of millions of
 * states passes it within seconds; later runs find the process past it at their first check.
 */
const bound = process.memoryUsage.rss() + 24 * 2 ** 20;

describe('max memory', () => {
  it('check() stops at maxMemoryBytes: incomplete, reason memory, with the counts so far', () => {
    // rms=9: about 10 M states, far more than 24 MiB of visited set and frontier.
    const r = checkSync(twoPhase, { params: { rms: 9 }, liveness: false, maxMemoryBytes: bound });
    expect(r).toMatchObject({ result: 'incomplete', reason: 'memory' });
    expect(r.stats.distinctStates).toBeGreaterThan(1000);
  });

  it('pacta check --max-memory: exit 3, the partial result, a hint; --json says reason memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pacta-memory-'));
    const size = `${Math.ceil(bound / 2 ** 20)}M`;
    const args = ['check', 'two-phase', '--param', 'rms=9', '--no-liveness', '--workers', '1', '--max-memory', size];
    const io = memoryIO(dir);
    expect(await main(args, io)).toBe(3);
    expect(io.stdout).toMatch(/incomplete: a limit stopped the search/);
    expect(io.stdout).toMatch(/stopped by: memory\nhint: the process reached --max-memory/);
    const json = memoryIO(dir);
    expect(await main([...args, '--json'], json)).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ result: 'incomplete', reason: 'memory', options: { maxMemoryBytes: Math.ceil(bound / 2 ** 20) * 2 ** 20 } });
  });

  it('rejects a size it cannot read', async () => {
    const io = memoryIO();
    expect(await main(['check', 'two-phase', '--max-memory', 'lots'], io)).toBe(2);
    expect(io.stderr).toMatch(/--max-memory expects a size of at least 1M \(e\.g\. 200M, 4G\) or 'none', got 'lots'/);
  });
});
