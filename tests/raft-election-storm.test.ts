/**
 * The must-show, through the CLI: the Raft election storm is caught and the pre-vote
 * configuration passes, at the same bounds (docs/protocols/raft.md gives both commands); the
 * checked-in lasso replays and `pacta show` marks its loop.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { memoryIO } from '../cli/io.ts';

const out = mkdtempSync(join(tmpdir(), 'pacta-storm-'));
const example = join(import.meta.dirname, '..', 'traces', 'examples', 'raft.election-storm.json');

async function pacta(...args: string[]) {
  const io = memoryIO(out);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('raft election storm (pacta check)', () => {
  it('`pacta check raft:election-storm` exits 1: no stable leader, a lasso', async () => {
    const r = await pacta('check', 'raft:election-storm', '--json', '--out', out);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { result: string; violation: { property: string; kind: string } };
    expect(report.result).toBe('violation');
    expect(report.violation).toMatchObject({ property: 'a stable leader: eventually one leader that a majority follows, for ever', kind: 'eventuallyAlways' });
  });

  it('`pacta check raft:election-storm --param preVote=true --param checkQuorum=true` exits 0', async () => {
    const r = await pacta('check', 'raft:election-storm', '--param', 'preVote=true', '--param', 'checkQuorum=true', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { result: string }).result).toBe('ok');
  });

  it('`pacta check raft --param preVote=true` is refused (exit 2): the log server does not model it', async () => {
    const r = await pacta('check', 'raft', '--param', 'preVote=true');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/raft's log-replicating server does not model preVote=true: these params are the election model's \(check raft:election-storm\)/);
  });

  it('the example lasso replays (exit 0) and `pacta show` marks where the loop starts', async () => {
    const replay = await pacta('replay', example);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/the cycle \(steps 14\.\.79\) returns to the state of step 13/);
    const show = await pacta('show', example);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/a lasso: steps 14\.\.79 repeat forever, returning to the state of step 13; marked ↻/);
    expect(show.out).toMatch(/↻ +13 +server3: timeout/);
  });
});
