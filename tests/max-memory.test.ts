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
import { growthWarning } from '../cli/growth-warning.ts';
import { normalizeOptions } from '../checker/options.ts';
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

describe('growth warning', () => {
  it('once past half the bound with the queue still growing, stderr says so once, naming the options that multiplied the space', async () => {
    const options = normalizeOptions(twoPhase, { network: 'bag', dup: true, crashes: 1, maxMemoryBytes: 1000 * 2 ** 20 });
    const io = memoryIO();
    let rss = 400 * 2 ** 20;
    const watch = growthWarning(io, options, () => rss);
    const at = (seconds: number, queue: number) => ({ distinctStates: 1000 * seconds, statesGenerated: 0, depth: seconds, queue, seconds, statesPerSecond: 0 });
    watch.update(at(1, 100));
    expect(io.stderr).toBe(''); // under half the bound
    rss = 600 * 2 ** 20;
    watch.update(at(2, 90));
    expect(io.stderr).toBe(''); // the queue shrinks: the run is finishing
    watch.update(at(3, 5000));
    watch.update(at(4, 9000));
    expect(io.stderr.split('\n').filter((l) => l.startsWith('pacta: warning:'))).toEqual([
      'pacta: warning: 600 MiB of the 1,000 MiB memory bound used after 3,000 states, and the queue still grows (5,000 states at depth 3); the run will stop at the bound with a partial result.',
    ]);
    expect(io.stderr).toMatch(/Options that multiply this space: --network bag, --dup, --crashes 1, no --max-in-flight bound\./);
  });

  it('says nothing while the process is under half the bound', async () => {
    const io = memoryIO(mkdtempSync(join(tmpdir(), 'pacta-growth-')));
    expect(await main(['check', 'two-phase', '--param', 'rms=6', '--network', 'bag', '--no-liveness', '--max-memory', '64G', '--max-states', '20000'], io)).toBe(3);
    expect(io.stderr).not.toMatch(/warning/);
  });
});
