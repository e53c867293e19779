/**
 * docs/examples/raft-kv-cluster.ts runs as documented: a 3-node Raft KV cluster elects a leader,
 * serves puts and gets, survives the leader's crash with its acknowledged writes, takes the old
 * leader back from its log, takes a restarted client's puts under a new session incarnation, and
 * its history is linearizable.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../docs/examples/raft-kv-cluster.ts';

describe('docs/examples/raft-kv-cluster.ts', () => {
  it('runs on the memory transport: writes survive the leader crash, the history is linearizable', async () => {
    const lines: string[] = [];
    const r = await main('memory', (line) => lines.push(line));
    expect(r.secondLeader).not.toBe(r.firstLeader);
    expect(r.lastRead).toBe(5); // the last put before the crash
    expect(r.acknowledged).toBeGreaterThanOrEqual(11);
    expect(r.incarnations[1]).toBe(r.incarnations[0] + 1);
    expect(r.readAfterClientRestart).toBe(43);
    expect(r.linearizable).toBe(true);
    expect(lines.at(-1)).toMatch(/linearizable$/);
  }, 120_000);
});
