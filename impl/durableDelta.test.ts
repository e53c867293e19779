import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, Writer, t } from '../specs/core/index.ts';
import { DurableDelta } from './durableDelta.ts';
import { fileStore } from './durableStore.ts';
import { LOG_HEADER_BYTES, RECORD_HEADER_BYTES } from './storage/recordFormat.ts';

const Entry = t.struct({ term: t.u32, v: t.u32 });
const State = t.struct({ term: t.u32, votedFor: t.option(t.u32), log: t.array(Entry), commit: t.u32 });
type State = typeof State.__type;
const delta = DurableDelta.of(State, ['term', 'votedFor', 'log'])!;

function roundTrip(saved: State, next: State): { changed: number; applied: State; bytes: number } {
  const w = new Writer();
  const changed = delta.encode(w, saved, next);
  const applied = changed === 0 ? saved : delta.apply(saved, new Reader(w.toBytes()));
  return { changed, applied, bytes: w.pos };
}

describe('DurableDelta', () => {
  const e = (term: number, v: number) => ({ term, v });
  const base: State = { term: 2, votedFor: 1, log: [e(1, 1), e(2, 2), e(2, 3)], commit: 1 };

  it('a log that grew costs the new entries; folding the change gives the new durable fields', () => {
    const next = { ...base, log: [...base.log, e(2, 4), e(2, 5)], commit: 3 };
    const r = roundTrip(base, next);
    expect(r.changed).toBe(1);
    expect(r.applied).toEqual({ ...next, commit: 1 }); // commit is not durable: not in the change
    const whole = new Writer();
    State.encode(whole, next);
    expect(r.bytes).toBeLessThan(whole.pos);
  });

  it('a log cut back and appended to, a new term and vote, and nothing changed', () => {
    const next = { ...base, term: 3, votedFor: null, log: [base.log[0]!, e(3, 9)] };
    expect(roundTrip(base, next).applied).toEqual(next);
    // Other objects of the same bytes (a copied log of the same entries) are no change.
    expect(roundTrip(base, { ...base, log: base.log.slice(), commit: 7 }).changed).toBe(0);
  });

  it('rejects a change that keeps more entries than the state has', () => {
    const w = new Writer();
    delta.encode(w, base, { ...base, log: [...base.log, e(2, 4)] });
    expect(() => delta.apply({ ...base, log: [] }, new Reader(w.toBytes()))).toThrow(/keeps 3 items of log, which has 0/);
  });
});

describe('fileStore with changes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pacta-delta-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bytes = (...xs: number[]) => new Uint8Array(xs);

  it('hands over the last whole record and the changes after it; a corrupted change keeps only those before it', async () => {
    const path = join(dir, 'node.log');
    const store = fileStore(path);
    expect(await store.open()).toMatchObject({ projection: undefined, changes: [], damage: null });
    await store.save(bytes(1, 1, 1));
    await store.saveChange!(bytes(2), () => bytes(9));
    await store.saveChange!(bytes(3, 3), () => bytes(9));
    await store.saveChange!(bytes(4), () => bytes(9));
    await store.close();
    const clean = fileStore(path);
    const got = await clean.open();
    expect(got).toMatchObject({ projection: bytes(1, 1, 1), changes: [bytes(2), bytes(3, 3), bytes(4)], damage: null });
    await clean.close();
    // Flip a bit of the second change's payload: the third is intact but cannot be read without it.
    const file = Buffer.from(readFileSync(path));
    file[LOG_HEADER_BYTES + (RECORD_HEADER_BYTES + 3) + (RECORD_HEADER_BYTES + 1) + RECORD_HEADER_BYTES]! ^= 0x01;
    writeFileSync(path, file);
    const damaged = fileStore(path);
    const after = await damaged.open();
    expect(after).toMatchObject({ projection: bytes(1, 1, 1), changes: [bytes(2)], damage: { kind: 'corrupt-record', recordsAfter: 1 } });
    await damaged.close();
  });

  it('compacts into the whole projection every compactEveryRecords saves', async () => {
    const path = join(dir, 'node.log');
    const store = fileStore(path, { compactEveryRecords: 2 });
    await store.open();
    await store.save(bytes(1));
    await store.saveChange!(bytes(2), () => bytes(7));
    await store.saveChange!(bytes(3), () => bytes(8)); // the third record: a compaction
    await store.saveChange!(bytes(4), () => bytes(9));
    await store.close();
    const again = fileStore(path);
    expect(await again.open()).toMatchObject({ projection: bytes(8), changes: [bytes(4)], damage: null });
    await again.close();
  });
});
