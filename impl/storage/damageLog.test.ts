import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { damageLog } from './damageLog.ts';
import { openDurableLog } from './durableLog.ts';
import { recoverLog } from './recoverLog.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A closed log holding `records`. */
async function logWith(records: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pacta-damage-'));
  dirs.push(dir);
  const path = join(dir, 'node-0.log');
  const { log } = await openDurableLog(path, { syncMode: 'none' });
  for (const r of records) await log.commit(Buffer.from(r));
  await log.close();
  return path;
}

describe('damageLog: the damage each --disk-faults kind stands for, as recovery sees it', () => {
  it('torn-tail: recovery cuts the torn write and keeps every complete record', async () => {
    const path = await logWith(['a', 'b']);
    await damageLog(path, 'torn-tail');
    const r = await recoverLog(path, { sync: false, keep: 'latest' });
    expect(r.damage?.kind).toBe('torn-tail');
    expect(r.records.map(String)).toEqual(['a', 'b']);
  });

  for (const records of [['a', 'b', 'c'], []]) {
    it(`corrupt-record: no record can be read (${records.length} records)`, async () => {
      const path = await logWith(records);
      await damageLog(path, 'corrupt-record');
      const r = await recoverLog(path, { sync: false, keep: 'latest' });
      expect(r.damage?.kind).toBe('corrupt-record');
      expect([r.snapshot, r.records]).toEqual([undefined, []]);
    });
  }

  it('empty-log: the file is emptied', async () => {
    const path = await logWith(['a']);
    await damageLog(path, 'empty-log');
    expect((await stat(path)).size).toBe(0);
    expect((await recoverLog(path, { sync: false })).damage?.kind).toBe('empty-log');
  });
});
