import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDurableLog, type DurableLogOptions } from './durableLog.ts';
import { recoverLog, scanLog } from './recoverLog.ts';
import { damageLog } from './damageLog.ts';
import { MARK_SLOT_STRIDE, markPath, readMark } from './highWaterMark.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-mark-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const detect: DurableLogOptions = { detectLostWrites: true, syncMode: 'none' };
const texts = (records: Buffer[]): string[] => records.map(String);

/** A closed log with a mark, holding `records` (one commit each); returns its path. */
async function logWith(records: string[], name = 'node.log'): Promise<string> {
  const path = join(dir, name);
  const { log } = await openDurableLog(path, detect);
  for (const r of records) await log.commit(Buffer.from(r));
  await log.close();
  return path;
}

const markOf = (path: string): number | undefined => readMark(readFileSync(markPath(path)))?.mark;

describe('the high-water mark: a log that ends below it lost a write', () => {
  it('numbers records since the log was made, through compactions, and writes the mark after each flush', async () => {
    const path = join(dir, 'node.log');
    const { log, recovered } = await openDurableLog(path, detect);
    expect(recovered.lastSeq).toBe(0);
    expect(markOf(path)).toBe(0);
    await log.commit(Buffer.from('a'));
    await log.commit(Buffer.from('b'));
    expect(markOf(path)).toBe(2);
    await log.compact(Buffer.from('ab'));
    expect(markOf(path)).toBe(3); // the snapshot is a record of its own
    await log.commit(Buffer.from('c'));
    expect(log.stats).toMatchObject({ marks: 4, compactions: 1 });
    await log.close();
    expect(markOf(path)).toBe(4);
    expect(await recoverLog(path, { detectLostWrites: true })).toMatchObject({ damage: null, lastSeq: 4, snapshot: Buffer.from('ab'), records: [Buffer.from('c')] });
  });

  it('writes the mark only once the log\'s flush returned, and resolves a commit only once the mark is flushed', async () => {
    const path = join(dir, 'order.log');
    const { log } = await openDurableLog(path, { detectLostWrites: true, syncMode: 'datasync' });
    const probe = await open(join(dir, 'probe'), 'w');
    const handle = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown>; datasync: () => Promise<void> };
    await probe.close();
    const seen: string[] = [];
    const { write, datasync } = handle;
    // The mark's writes are its 12-byte slots; the log's are records (13 bytes of header and more).
    const writeSpy = vi.spyOn(handle, 'write').mockImplementation(function (this: unknown, ...a: unknown[]) {
      seen.push((a[0] as Buffer).length - (a[1] as number) === 12 ? 'mark write' : 'log write');
      return write.apply(this, a);
    });
    const syncSpy = vi.spyOn(handle, 'datasync').mockImplementation(async function (this: unknown) {
      seen.push('flush');
      await datasync.apply(this);
      seen.push('flushed');
    });
    try {
      for (const r of ['a', 'b']) {
        await log.commit(Buffer.from(r));
        seen.push('resolved');
      }
    } finally {
      writeSpy.mockRestore();
      syncSpy.mockRestore();
    }
    const one = ['log write', 'flush', 'flushed', 'mark write', 'flush', 'flushed', 'resolved'];
    expect(seen).toEqual([...one, ...one]);
    await log.close();
  });

  it('never has the mark ahead of the records in the file, and never behind one whose commit resolved (group commit)', async () => {
    const path = join(dir, 'group.log');
    const { log } = await openDurableLog(path, detect);
    const checks = Array.from({ length: 60 }, async (_, i) => {
      if (i % 20 === 19) await log.compact(Buffer.from(`snapshot ${i}`));
      else await log.commit(Buffer.from(`record ${i}`));
      const mark = markOf(path)!;
      const inFile = scanLog(readFileSync(path), path).lastSeq;
      expect(mark).toBeLessThanOrEqual(inFile);
      return mark;
    });
    const marks = await Promise.all(checks);
    expect(marks.at(-1)).toBe(60);
    await log.close();
  });

  it('reports a lost last record as lost-write, keeps the file aside, and numbers the rebuilt log on from the mark', async () => {
    const path = await logWith(['a', 'b', 'c']);
    await damageLog(path, 'lost-write');
    const { log, recovered } = await openDurableLog(path, detect);
    expect(recovered.damage).toMatchObject({ kind: 'lost-write', recordsAfter: 0 });
    expect(recovered.damage!.detail).toMatch(/ends at record 2, but its high-water mark says record 3 was flushed/);
    expect(texts(recovered.records)).toEqual(['a', 'b']);
    expect(existsSync(recovered.damage!.keptAs!)).toBe(true);
    expect(recovered.lastSeq).toBe(3);
    await log.commit(Buffer.from('d'));
    await log.close();
    // Reported once: the next restart reads clean.
    expect(await recoverLog(path, { detectLostWrites: true })).toMatchObject({ damage: null, lastSeq: 4, records: [Buffer.from('a'), Buffer.from('b'), Buffer.from('d')] });
  });

  it('reports a flushed record cut into as lost-write, and a write torn past the mark as a torn tail', async () => {
    const path = await logWith(['a', 'bb']);
    truncateSync(path, statSync(path).size - 1);
    expect((await recoverLog(path, { detectLostWrites: true })).damage?.detail).toMatch(/cut into, not a write torn by a crash/);
    const torn = await logWith(['a', 'b'], 'torn.log');
    await damageLog(torn, 'torn-tail'); // a record the mark does not cover: in flight at the crash
    expect(await recoverLog(torn, { detectLostWrites: true })).toMatchObject({ damage: { kind: 'torn-tail' }, lastSeq: 2 });
  });

  it('reads clean when the mark write is the one lost or torn, or the mark file is missing or unreadable', async () => {
    const path = join(dir, 'node.log');
    const { log } = await openDurableLog(path, detect);
    await log.commit(Buffer.from('a'));
    await log.commit(Buffer.from('b'));
    const before = readFileSync(markPath(path));
    await log.commit(Buffer.from('c'));
    await log.close();
    const after = readFileSync(markPath(path));
    const reopen = async (): Promise<void> => {
      const r = await openDurableLog(path, detect);
      expect(r.recovered).toMatchObject({ damage: null, lastSeq: 3 });
      await r.log.close();
    };
    // Lost: the mark file as it was before the last commit.
    writeFileSync(markPath(path), before);
    await reopen();
    // Torn: the slot written last fails its checksum (which slot: the one that differs).
    const torn = Buffer.from(after);
    const slot = after.subarray(0, 12).equals(before.subarray(0, 12)) ? MARK_SLOT_STRIDE : 0;
    torn[slot + 3]! ^= 0x40;
    writeFileSync(markPath(path), torn);
    expect(readMark(torn)?.mark).toBe(2);
    await reopen();
    // Its creation torn (no slot reads), or gone: no mark, made again at the log's last record.
    writeFileSync(markPath(path), after.subarray(0, 5));
    await reopen();
    expect(markOf(path)).toBe(3);
    unlinkSync(markPath(path));
    await reopen();
    expect(markOf(path)).toBe(3);
    // The mark made again detects the next lost write.
    await damageLog(path, 'lost-write');
    expect((await recoverLog(path, { detectLostWrites: true })).damage?.kind).toBe('lost-write');
  });

  it('reports an emptied or missing log under a mark above 0 as empty-log, once', async () => {
    const path = await logWith(['a', 'b']);
    await damageLog(path, 'empty-log');
    expect(await recoverLog(path, { detectLostWrites: true })).toMatchObject({ damage: { kind: 'empty-log' }, lastSeq: 2 });
    expect(await recoverLog(path, { detectLostWrites: true })).toMatchObject({ damage: null, lastSeq: 2 });
    // Log and its `.created` marker gone, the mark left: the mark says a log existed.
    unlinkSync(path);
    unlinkSync(`${path}.created`);
    expect((await recoverLog(path, { detectLostWrites: true })).damage?.detail).toMatch(/high-water mark says 2 records were flushed/);
  });

  it('without detectLostWrites keeps no mark, and a lost write reads clean', async () => {
    const path = join(dir, 'plain.log');
    const { log } = await openDurableLog(path, { syncMode: 'none' });
    await log.commit(Buffer.from('a'));
    await log.commit(Buffer.from('b'));
    expect(log.stats.marks).toBe(0);
    await log.close();
    expect(existsSync(markPath(path))).toBe(false);
    await damageLog(path, 'lost-write');
    expect(await recoverLog(path)).toMatchObject({ damage: null, records: [Buffer.from('a')] });
  });

  it('one fault at a time: recovery reports lost-write exactly when the log lost a record the mark covers', async () => {
    const faults = ['none', 'lose-record', 'lose-mark-write', 'tear-mark-write', 'tear-log-write'] as const;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom(...faults), async (records, compactAt, fault) => {
        const path = join(dir, `p${run++}.log`);
        const { log } = await openDurableLog(path, detect);
        let markBefore = readFileSync(markPath(path));
        for (const [i, r] of records.entries()) {
          markBefore = readFileSync(markPath(path));
          if (i === compactAt) await log.compact(Buffer.from(r));
          else await log.commit(Buffer.from(r));
        }
        await log.close();
        const expected = scanLog(readFileSync(path), path);
        if (fault === 'lose-record') await damageLog(path, 'lost-write');
        if (fault === 'lose-mark-write') writeFileSync(markPath(path), markBefore);
        if (fault === 'tear-mark-write') {
          const mark = readFileSync(markPath(path));
          const written = mark.subarray(0, 12).equals(markBefore.subarray(0, 12)) ? MARK_SLOT_STRIDE : 0;
          mark[written + 11]! ^= 0x01;
          writeFileSync(markPath(path), mark);
        }
        if (fault === 'tear-log-write') await damageLog(path, 'torn-tail');
        const recovered = await recoverLog(path, { detectLostWrites: true, sync: false });
        const kind = { none: null, 'lose-record': 'lost-write', 'lose-mark-write': null, 'tear-mark-write': null, 'tear-log-write': 'torn-tail' }[fault];
        expect(recovered.damage?.kind ?? null).toBe(kind);
        if (fault !== 'lose-record') expect([recovered.snapshot, recovered.records, recovered.lastSeq]).toEqual([expected.snapshot, expected.records, expected.lastSeq]);
        else expect(recovered.lastSeq).toBe(expected.lastSeq);
        expect((await recoverLog(path, { detectLostWrites: true, sync: false })).damage).toBe(null);
      }),
      { numRuns: 60 },
    );
  });
});
