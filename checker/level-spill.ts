/**
 * Parallel BFS levels larger than memory: chunks of packed states (as workers return them) are
 * written to a temporary file once the level's chunks held in memory pass the frontier's budget,
 * and read back when they are handed out. The order of states within a level does not change
 * what the next level holds, so any chunk may go to disk.
 */
import { SpillFile } from './spill-file.ts';

/** A chunk of a level: `length` bytes of [u32 length][state] entries, in memory or on disk. */
export interface LevelChunk {
  /** The chunk's memory; null while it is on disk. */
  buffer: ArrayBuffer | null;
  length: number;
  /** Where the chunk lies in the spill file, while it is there. */
  spillAt: number;
}

export class LevelSpill {
  /** Bytes of level chunks in memory (kept by the caller through `hold` and `release`). */
  private held = 0;
  private readonly file = new SpillFile('pacta-level-');
  /** Chunks on disk not yet read back: when none are left, the file is written from its start again. */
  private onDisk = 0;

  constructor(private readonly memoryBytesMax: number) {}

  /** A chunk joined a level in memory; spills `spillable` chunks while memory is over budget. */
  hold(chunk: LevelChunk, spillable: readonly LevelChunk[]): void {
    this.held += chunk.length;
    for (let i = spillable.length - 1; i >= 0 && this.held > this.memoryBytesMax; i--) {
      const c = spillable[i]!;
      if (c.buffer !== null) this.write(c);
    }
  }

  /** A chunk left memory (handed to a worker). */
  release(chunk: LevelChunk): void {
    this.held -= chunk.length;
  }

  /** Bytes written to disk so far. */
  get spilledBytes(): number {
    return this.file.writtenBytes;
  }

  /** The chunk's memory, read back from disk if it was written there. */
  load(chunk: LevelChunk): ArrayBuffer {
    if (chunk.buffer !== null) return chunk.buffer;
    const bytes = new Uint8Array(Math.max(chunk.length, 1));
    this.file.read(bytes, chunk.length, chunk.spillAt);
    chunk.buffer = bytes.buffer;
    this.held += chunk.length;
    if (--this.onDisk === 0) this.file.rewind();
    return chunk.buffer;
  }

  /** Removes the spill file, if any. */
  close(): void {
    this.file.close();
  }

  private write(c: LevelChunk): void {
    c.spillAt = this.file.write(new Uint8Array(c.buffer!, 0, c.length), c.length);
    this.onDisk++;
    this.held -= c.length;
    c.buffer = null;
  }
}

/** Chunks start at 1 MiB: levels are large, and each chunk is one transfer to a worker. */
const LEVEL_CHUNK_BYTES = 1 << 20;

/**
 * Writes packed states as level chunks: [u32 length][bytes] entries in 1 MiB buffers, the first
 * one `firstBytes` long (a small task's output: zeroing a megabyte per task of a few dozen
 * states cost more than expanding them).
 */
export class LevelWriter {
  readonly chunks: LevelChunk[] = [];
  private out: Uint8Array;
  private view: DataView;
  private used = 0;

  constructor(firstBytes = LEVEL_CHUNK_BYTES) {
    this.out = new Uint8Array(Math.min(firstBytes, LEVEL_CHUNK_BYTES));
    this.view = new DataView(this.out.buffer);
  }

  push(bytes: Uint8Array): void {
    const len = bytes.length;
    if (this.used + 4 + len > this.out.length) {
      this.flush();
      this.out = new Uint8Array(Math.max(LEVEL_CHUNK_BYTES, 4 + len));
      this.view = new DataView(this.out.buffer);
    }
    this.view.setUint32(this.used, len, true);
    this.out.set(bytes, this.used + 4);
    this.used += 4 + len;
  }

  /** The chunks written, the last one included. */
  finish(): LevelChunk[] {
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.used === 0) return;
    // A chunk less than half used keeps only what it holds: workers finish one per small task,
    // and a level of mostly empty megabytes would be all the frontier's memory.
    const buffer = this.used < this.out.length / 2 ? this.out.slice(0, this.used).buffer : this.out.buffer;
    this.chunks.push({ buffer: buffer as ArrayBuffer, length: this.used, spillAt: 0 });
    this.used = 0;
  }
}
