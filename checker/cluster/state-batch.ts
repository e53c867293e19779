/**
 * Batches of states sent to their owner in a partitioned BFS: one Redis list element carries
 * many states, so a state costs bytes, not a round trip. Layout (little-endian u32s):
 * header [level][count], then per state [hi][lo][parent hi][parent lo][length][packed bytes].
 * The packed bytes are the world codec's (canonical under symmetry), as in the single-machine
 * frontier; the fingerprint travels with them so the owner need not recompute it.
 */

/** A batch is sent once it holds this many bytes (or at the end of a slice of work). */
export const BATCH_BYTES = 256 * 1024;

const HEADER = 8;
const RECORD_HEADER = 20;

export class BatchWriter {
  private buf = Buffer.allocUnsafe(BATCH_BYTES + 4096);
  private used = HEADER;
  count = 0;

  constructor(private readonly level: number) {}

  get bytes(): number {
    return this.used;
  }

  push(hi: number, lo: number, parentHi: number, parentLo: number, state: Uint8Array): void {
    const need = this.used + RECORD_HEADER + state.length;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const b = this.buf;
    let at = this.used;
    b.writeUInt32LE(hi >>> 0, at);
    b.writeUInt32LE(lo >>> 0, at + 4);
    b.writeUInt32LE(parentHi >>> 0, at + 8);
    b.writeUInt32LE(parentLo >>> 0, at + 12);
    b.writeUInt32LE(state.length, at + 16);
    at += RECORD_HEADER;
    b.set(state, at);
    this.used = at + state.length;
    this.count++;
  }

  /** The batch as one Buffer (a copy: the writer starts over). */
  take(): Buffer {
    this.buf.writeUInt32LE(this.level, 0);
    this.buf.writeUInt32LE(this.count, 4);
    const out = Buffer.from(this.buf.subarray(0, this.used));
    this.used = HEADER;
    this.count = 0;
    return out;
  }
}

/** Calls `f` for each state of a batch (the `state` view is valid during the call only). */
export function readBatch(batch: Buffer, f: (hi: number, lo: number, parentHi: number, parentLo: number, state: Uint8Array) => void): { level: number; count: number } {
  const level = batch.readUInt32LE(0);
  const count = batch.readUInt32LE(4);
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    const hi = batch.readUInt32LE(at);
    const lo = batch.readUInt32LE(at + 4);
    const ph = batch.readUInt32LE(at + 8);
    const pl = batch.readUInt32LE(at + 12);
    const len = batch.readUInt32LE(at + 16);
    at += RECORD_HEADER;
    f(hi, lo, ph, pl, batch.subarray(at, at + len));
    at += len;
  }
  if (at !== batch.length) throw new Error(`state batch: ${batch.length - at} bytes left over after ${count} states`);
  return { level, count };
}
