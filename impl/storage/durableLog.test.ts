import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, truncateSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDurableLog } from './durableLog.ts';
import { recoverLog } from './recoverLog.ts';
import { LOG_HEADER_BYTES, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES_V1, RecordType, encodeLogHeader, encodeRecord, encodeRecordV1 } from './recordFormat.ts';
import { crc32 } from 'node:zlib';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacta-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const texts = (records: Buffer[]): string[] => records.map((r) => r.toString());
const payloads = ['alpha', '', 'a somewhat longer record, to vary the lengths', 'δ', 'e'];

async function writeLog(path: string, records: string[]): Promise<Buffer> {
  const { log } = await openDurableLog(path);
  for (const r of records) log.append(Buffer.from(r));
  await log.sync();
  await log.close();
  return readFileSync(path);
}

/** End offsets of each record in a file holding `records` after the header. */
function boundaries(records: string[]): number[] {
  let pos = LOG_HEADER_BYTES;
  return records.map((r) => (pos += RECORD_HEADER_BYTES + Buffer.byteLength(r)));
}

describe('openDurableLog', () => {
  it('creates a log, commits records, and recovers them after reopening', async () => {
    const path = join(dir, 'node.log');
    const first = await openDurableLog(path);
    expect(first.recovered).toMatchObject({ records: [], snapshot: undefined, created: true, damage: null });
    await first.log.commit(Buffer.from('one'));
    first.log.append(Buffer.from('two'));
    expect(first.log.isSynced).toBe(false);
    await first.log.commit(Buffer.from('three'));
    expect(first.log.isSynced).toBe(true);
    await first.log.close();
    const again = await openDurableLog(path);
    expect(texts(again.recovered.records)).toEqual(['one', 'two', 'three']);
    expect(again.recovered).toMatchObject({ damage: null, truncatedBytes: 0, created: false });
    await again.log.commit(Buffer.from('four'));
    await again.log.close();
    expect(texts((await recoverLog(path)).records)).toEqual(['one', 'two', 'three', 'four']);
  });

  it('groups concurrent commits into fewer flushes, each durable when it resolves', async () => {
    const path = join(dir, 'group.log');
    const { log } = await openDurableLog(path);
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await log.commit(Buffer.from(`r${i}`));
        // What a commit promised is in the file (the page cache) when it resolves.
        expect(readFileSync(path).includes(encodeRecord(RecordType.entry, Buffer.from(`r${i}`)))).toBe(true);
        done.push(i);
      }),
    );
    expect(done).toHaveLength(100);
    expect(log.stats.syncs).toBeLessThan(100);
    expect(log.stats.appended).toBe(100);
    await log.close();
  });

  it('keeps a prefix and cuts a torn tail when the file is cut at any byte; a file cut inside its header was emptied', async () => {
    const source = join(dir, 'source.log');
    const bytes = await writeLog(source, payloads);
    const ends = boundaries(payloads);
    const path = join(dir, 'cut.log');
    for (let cut = 0; cut <= bytes.length; cut++) {
      writeFileSync(path, bytes.subarray(0, cut));
      const { log, recovered } = await openDurableLog(path, { syncMode: 'none' });
      const whole = ends.filter((end) => end <= cut).length;
      expect(texts(recovered.records), `cut at ${cut}`).toEqual(payloads.slice(0, whole));
      const goodEnd = cut < LOG_HEADER_BYTES ? LOG_HEADER_BYTES : whole === 0 ? LOG_HEADER_BYTES : ends[whole - 1]!;
      expect(recovered.sizeBytes).toBe(goodEnd);
      const kind = cut < LOG_HEADER_BYTES ? 'empty-log' : cut !== goodEnd ? 'torn-tail' : undefined;
      expect(recovered.damage?.kind, `cut at ${cut}`).toBe(kind);
      // The damaged file is kept aside as it was found.
      if (kind) expect(readFileSync(recovered.damage!.keptAs!)).toEqual(bytes.subarray(0, cut));
      // The log goes on after the cut.
      await log.commit(Buffer.from('after'));
      await log.close();
      const again = await recoverLog(path, { sync: false });
      expect(texts(again.records)).toEqual([...payloads.slice(0, whole), 'after']);
      expect(again.damage).toBe(null);
    }
  });

  it('never returns a damaged record: a flipped byte anywhere after the header is corruption, never a torn tail, and keeps exactly the records before it', async () => {
    const source = join(dir, 'source.log');
    const bytes = await writeLog(source, payloads);
    const ends = boundaries(payloads);
    const path = join(dir, 'flip.log');
    for (let at = LOG_HEADER_BYTES; at < bytes.length; at++) {
      for (const xor of [0x01, 0x80, 0xff]) {
        const damaged = Buffer.from(bytes);
        damaged[at]! ^= xor;
        writeFileSync(path, damaged);
        const recovered = await recoverLog(path, { sync: false });
        const intact = ends.filter((end) => end <= at).length;
        expect(texts(recovered.records), `byte ${at} ^ ${xor}`).toEqual(payloads.slice(0, intact));
        // The last record too: its length is covered by its header's checksum, so a damaged one
        // is not mistaken for a write cut short.
        expect(recovered.damage, `byte ${at} ^ ${xor}`).toMatchObject({ kind: 'corrupt-record', offset: intact === 0 ? LOG_HEADER_BYTES : ends[intact - 1], recordsAfter: payloads.length - intact - 1 });
        expect(readFileSync(recovered.damage!.keptAs!)).toEqual(damaged);
        expect(statSync(path).size).toBe(intact === 0 ? LOG_HEADER_BYTES : ends[intact - 1]);
      }
    }
  });

  it("keep: 'latest' rebuilds a log corrupted in the middle from its latest intact record", async () => {
    const path = join(dir, 'latest.log');
    const bytes = await writeLog(path, payloads);
    const ends = boundaries(payloads);
    const damaged = Buffer.from(bytes);
    damaged[ends[1]! + RECORD_HEADER_BYTES]! ^= 0x04; // the third record's payload
    writeFileSync(path, damaged);
    const { log, recovered } = await openDurableLog(path, { keep: 'latest' });
    expect(recovered.damage).toMatchObject({ kind: 'corrupt-record', offset: ends[1], recordsAfter: 2 });
    expect(recovered.snapshot?.toString()).toBe(payloads[payloads.length - 1]);
    expect(recovered.records).toEqual([]);
    await log.close();
    expect((await recoverLog(path)).snapshot?.toString()).toBe(payloads[payloads.length - 1]);
  });

  it('reports a log that went missing (its marker remains) as an empty log', async () => {
    const path = join(dir, 'gone.log');
    await writeLog(path, ['x']);
    rmSync(path);
    const recovered = await recoverLog(path);
    expect(recovered.damage).toMatchObject({ kind: 'empty-log', recordsAfter: 0 });
    expect(recovered.records).toEqual([]);
    // A fresh directory (no marker) is a new log.
    const fresh = await recoverLog(join(dir, 'fresh.log'));
    expect(fresh.damage).toBe(null);
    expect(fresh.created).toBe(true);
  });

  it('reads a version-1 or version-2 log and rewrites it as version 3, its records numbered from 1', async () => {
    const path = join(dir, 'v1.log');
    writeFileSync(path, Buffer.concat([encodeLogHeader(1), encodeRecordV1(RecordType.entry, Buffer.from('old')), encodeRecordV1(RecordType.entry, Buffer.from('older?'))]));
    const { log, recovered } = await openDurableLog(path);
    expect(texts(recovered.records)).toEqual(['old', 'older?']);
    expect(recovered).toMatchObject({ damage: null, lastSeq: 2 });
    await log.commit(Buffer.from('new'));
    await log.close();
    expect(readFileSync(path).readUInt32BE(8)).toBe(3);
    expect(await recoverLog(path)).toMatchObject({ records: [Buffer.from('old'), Buffer.from('older?'), Buffer.from('new')], lastSeq: 3 });
    const v2 = join(dir, 'v2.log');
    writeFileSync(v2, Buffer.concat([encodeLogHeader(2), encodeRecord(RecordType.snapshot, Buffer.from('snap')), encodeRecord(RecordType.entry, Buffer.from('after'))]));
    expect(await recoverLog(v2)).toMatchObject({ snapshot: Buffer.from('snap'), records: [Buffer.from('after')], damage: null, lastSeq: 2, created: true });
    expect(readFileSync(v2).readUInt32BE(8)).toBe(3);
    // A torn version-1 tail is cut too.
    writeFileSync(path, Buffer.concat([encodeLogHeader(1), encodeRecordV1(RecordType.entry, Buffer.from('kept')), encodeRecordV1(RecordType.entry, Buffer.from('torn')).subarray(0, RECORD_HEADER_BYTES_V1 + 2)]));
    const torn = await recoverLog(path);
    expect(texts(torn.records)).toEqual(['kept']);
    expect(torn.damage?.kind).toBe('torn-tail');
  });

  it('reports a damaged file header as corruption and keeps the file aside; refuses a foreign file and leaves it alone', async () => {
    const path = join(dir, 'bad.log');
    const bytes = await writeLog(path, ['x']);
    for (let at = 0; at < LOG_HEADER_BYTES; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at]! ^= 0x10;
      writeFileSync(path, damaged);
      const { log, recovered } = await openDurableLog(path, { keep: 'latest' });
      expect(recovered.damage, `byte ${at}`).toMatchObject({ kind: 'corrupt-record', offset: 0, recordsAfter: 1 });
      expect(recovered.snapshot?.toString()).toBe('x');
      await log.close();
    }
    writeFileSync(path, 'hello, this is somebody else\'s file');
    await expect(openDurableLog(path)).rejects.toMatchObject({ code: 'openDurableLog/not-a-log' });
    expect(readFileSync(path, 'utf8')).toBe("hello, this is somebody else's file");
    writeFileSync(path, encodeLogHeader(7));
    await expect(openDurableLog(path)).rejects.toMatchObject({ code: 'openDurableLog/not-a-log' });
  });

  it('never throws and stays consistent on random bytes after a valid header', async () => {
    const path = join(dir, 'random.log');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (garbage, startWithRecord) => {
        const prefix = startWithRecord ? await writeLog(path, ['valid']) : encodeLogHeader();
        writeFileSync(path, Buffer.concat([prefix, garbage]));
        const recovered = await recoverLog(path, { sync: false });
        if (startWithRecord) expect(texts(recovered.records)[0]).toBe('valid');
        // After recovery the file holds exactly the returned records: a second pass finds no damage.
        const again = await recoverLog(path, { sync: false });
        expect(again.records).toEqual(recovered.records);
        expect(again.snapshot).toEqual(recovered.snapshot);
        expect(again.damage).toBe(null);
      }),
      { numRuns: 150 },
    );
  });

  it('compacts into a snapshot that supersedes earlier records, crash-safely', async () => {
    const path = join(dir, 'compact.log');
    const { log } = await openDurableLog(path);
    for (let i = 0; i < 50; i++) log.append(Buffer.from(`entry ${i}`));
    await log.sync();
    const before = statSync(path).size;
    log.append(Buffer.from('covered by the snapshot'));
    const compacted = log.compact(Buffer.from('state after 51 entries'));
    log.append(Buffer.from('after the snapshot'));
    await compacted;
    await log.commit(Buffer.from('and another'));
    expect(log.recordCount).toBe(2);
    expect(statSync(path).size).toBeLessThan(before);
    await log.close();
    const recovered = await recoverLog(path);
    expect(recovered.snapshot?.toString()).toBe('state after 51 entries');
    expect(texts(recovered.records)).toEqual(['after the snapshot', 'and another']);
    // A compaction cut by a crash leaves a temporary file, which the next open discards.
    writeFileSync(`${path}.compact`, 'half-written snapshot');
    const reopened = await openDurableLog(path);
    expect(reopened.recovered.snapshot?.toString()).toBe('state after 51 entries');
    expect(existsSync(`${path}.compact`)).toBe(false);
    await reopened.log.close();
  });

  it('keeps a record appended after a compaction even when an earlier sync is still queued', async () => {
    const path = join(dir, 'interleaved.log');
    const { log } = await openDurableLog(path);
    log.append(Buffer.from('a'));
    const first = log.sync();
    const compacted = log.compact(Buffer.from('snapshot covering a'));
    log.append(Buffer.from('b'));
    const second = log.sync();
    await Promise.all([first, compacted, second]);
    expect(log.isSynced).toBe(true);
    // Not closed: what is in the file now is what a crash would leave.
    const recovered = await recoverLog(path);
    expect(recovered.snapshot?.toString()).toBe('snapshot covering a');
    expect(texts(recovered.records)).toEqual(['b']);
    await log.close();
  });

  it('matches a model under any interleaving of appends, syncs and compactions', async () => {
    type Op = { op: 'append' } | { op: 'sync' } | { op: 'compact' } | { op: 'await' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.constant({ op: 'append' as const }) },
      { weight: 2, arbitrary: fc.constant({ op: 'sync' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'compact' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'await' as const }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const path = join(dir, `model-${run++}.log`);
        const { log } = await openDurableLog(path, { syncMode: 'none' });
        let snapshot: string | undefined;
        let records: string[] = [];
        let n = 0;
        const promises: Promise<void>[] = [];
        for (const o of ops) {
          if (o.op === 'append') {
            const r = `r${n++}`;
            log.append(Buffer.from(r));
            records.push(r);
          } else if (o.op === 'sync') promises.push(log.sync());
          else if (o.op === 'compact') {
            snapshot = `snap after ${records.length} records, ${n} appended`;
            promises.push(log.compact(Buffer.from(snapshot)));
            records = [];
          } else {
            await Promise.all(promises.splice(0));
          }
        }
        await Promise.all([...promises, log.sync()]);
        expect(log.isSynced).toBe(true);
        expect(log.recordCount).toBe(records.length);
        const recovered = await recoverLog(path);
        expect(recovered.snapshot?.toString()).toBe(snapshot);
        expect(texts(recovered.records)).toEqual(records);
        expect(recovered.damage).toBe(null);
        await log.close();
      }),
      { numRuns: 60 },
    );
  });

  it('cuts a torn record after a snapshot without losing the snapshot', async () => {
    const path = join(dir, 'snap-torn.log');
    const { log } = await openDurableLog(path);
    await log.compact(Buffer.from('snap'));
    await log.commit(Buffer.from('x'.repeat(40)));
    await log.close();
    truncateSync(path, statSync(path).size - 5);
    const recovered = await recoverLog(path);
    expect(recovered.snapshot?.toString()).toBe('snap');
    expect(recovered.records).toEqual([]);
    expect(recovered.damage?.kind).toBe('torn-tail');
  });

  it('treats a declared length above the limit as corruption without allocating it', async () => {
    const path = join(dir, 'huge.log');
    const bytes = await writeLog(path, ['ok', 'x']);
    // A record header whose own checksum holds but whose length is absurd (a writer's bug).
    const at = LOG_HEADER_BYTES + RECORD_HEADER_BYTES + 2;
    bytes.writeUInt32BE(0x7fff_ffff, at);
    bytes.writeUInt32BE(crc32(bytes.subarray(at, at + 9)), at + 9);
    writeFileSync(path, bytes);
    const recovered = await recoverLog(path, { recordBytesMax: 1024 });
    expect(texts(recovered.records)).toEqual(['ok']);
    expect(recovered.damage?.kind).toBe('corrupt-record');
  });

  it('rejects misuse with coded errors', async () => {
    const path = join(dir, 'misuse.log');
    const { log } = await openDurableLog(path, { recordBytesMax: 10 });
    expect(() => log.append(Buffer.alloc(11))).toThrowError(expect.objectContaining({ code: 'DurableLog.append/oversized' }));
    expect(() => log.append('text' as unknown as Uint8Array)).toThrowError(expect.objectContaining({ code: 'DurableLog.append/bad-record' }));
    await log.close();
    await log.close();
    expect(() => log.append(Buffer.alloc(1))).toThrowError(expect.objectContaining({ code: 'DurableLog.append/closed' }));
    await expect(openDurableLog(path, { syncMode: 'sometimes' as 'none' })).rejects.toMatchObject({ code: 'openDurableLog/bad-sync-mode' });
  });
});
