/**
 * Aurora on the executor (docs/examples/aurora-cluster.ts at small scale): a writer, 6 segments
 * with durable logs and a read replica, through AZ outages (one AZ+1) and writer crashes in the
 * middle of commits: no acknowledged commit is lost, and the history (commits, then reads from
 * the replica) is linearizable. The ack-before-vdl variant acknowledges a commit the writer sent
 * while cut off from every segment, crashes, and loses it: the test names that commit.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../docs/examples/aurora-cluster.ts';

describe('docs/examples/aurora-cluster.ts', () => {
  it('3 fault cycles (6 writer restarts, an AZ+1): every acknowledged commit is read back', async () => {
    const lines: string[] = [];
    const r = await run({ cycles: 3, commitsPerCycle: 3, syncMode: 'none', log: (l) => lines.push(l) });
    expect(r.writerRestarts).toBe(6);
    expect(r.azPlusOne).toBe(1);
    expect(r.acknowledged).toBeGreaterThan(6);
    expect(r.lost).toEqual([]);
    expect(r.linearizable).toBe(true);
    expect(lines.at(-1)).toMatch(/0 lost; history linearizable$/);
  }, 60_000);

  it('ack-before-vdl: the commit sent while the writer was cut off is acknowledged, then lost in the crash', async () => {
    const lines: string[] = [];
    const r = await run({ variant: 'ack-before-vdl', cycles: 1, commitsPerCycle: 2, syncMode: 'none', log: (l) => lines.push(l) });
    // Clients 0 and 1 commit txns 1..4 in the burst; txn 5 is the one sent while the writer is cut off.
    expect(r.lost.map((l) => l.txn)).toContain(5);
    const five = r.lost.find((l) => l.txn === 5)!;
    expect(five).toMatchObject({ onReplica: false, segments: 0 });
    expect(r.linearizable).toBe(false);
    expect(lines.some((l) => /^LOST: transaction 5 \(acknowledged at LSN \d+, epoch 2\)/.test(l))).toBe(true);
  }, 60_000);
});
