/**
 * The frontier: packed states in large byte chunks, used as a FIFO queue (BFS) or a LIFO stack
 * (DFS). Each entry is [state index u32][length u32][bytes]; nothing is stored as objects.
 *
 * When the chunks held in memory pass `memoryBytesMax`, the chunks needed last (the newest
 * ones behind the head of a queue; the oldest ones under the top of a stack) are spilled to a
 * temporary file and read back when the search reaches them, so a frontier larger than memory
 * slows the search down instead of crashing it.
 */
import { SpillFile } from './spill-file.ts';

/** Chunks start small (tiny runs stay tiny) and double up to 1 MiB. */
const FIRST_CHUNK_BYTES = 1 << 14;
const MAX_CHUNK_BYTES = 1 << 20;

interface Chunk {
  /** The chunk's memory; null while it is spilled to disk. */
  bytes: Uint8Array | null;
  view: DataView | null;
  /** Bytes written. */
  used: number;
  /** Entry offsets (stack only: to pop from the back). */
  starts: number[];
  /** Where the chunk lies in the spill file (when spilled). */
  spillAt: number;
}

export class Frontier {
  private chunks: Chunk[] = [];
  /** Read offset in the first chunk (queue only). */
  private head = 0;
  length = 0;
  /** Bytes of the entry last popped; valid until the next push. */
  current: Uint8Array = new Uint8Array(0);
  /** Bytes of chunk memory held now. */
  private held = 0;
  private readonly spill = new SpillFile('pacta-frontier-');
  /** Chunks written to disk so far. */
  spilledChunks = 0;

  /** Chunks grow up to this: a quarter of the budget at most, so a small budget still spills. */
  private readonly chunkBytesMax: number;

  constructor(
    private readonly lifo: boolean,
    private readonly memoryBytesMax = Number.POSITIVE_INFINITY,
  ) {
    this.chunkBytesMax = Math.max(FIRST_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, Math.floor(memoryBytesMax / 4)));
  }

  push(index: number, bytes: Uint8Array, len: number): void {
    const need = 8 + len;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.bytes === null || chunk.used + need > chunk.bytes.length) {
      const size = chunk?.bytes ? Math.min(this.chunkBytesMax, chunk.bytes.length * 2) : FIRST_CHUNK_BYTES;
      const b = new Uint8Array(Math.max(size, need));
      chunk = { bytes: b, view: new DataView(b.buffer), used: 0, starts: [], spillAt: 0 };
      this.chunks.push(chunk);
      this.held += b.length;
      if (this.held > this.memoryBytesMax) this.spillSome();
    }
    if (this.lifo) chunk.starts.push(chunk.used);
    const view = chunk.view!;
    view.setUint32(chunk.used, index, true);
    view.setUint32(chunk.used + 4, len, true);
    const into = chunk.bytes!;
    const at = chunk.used + 8;
    if (len <= 64) {
      for (let i = 0; i < len; i++) into[at + i] = bytes[i]!; // states are short: no view, no call
    } else {
      into.set(bytes.subarray(0, len), at);
    }
    chunk.used += need;
    this.length++;
  }

  /** Removes the next entry (oldest for a queue, newest for a stack) and returns its state index. */
  pop(): number {
    if (this.length === 0) throw new Error('Frontier.pop: the frontier is empty');
    this.length--;
    if (this.lifo) {
      let chunk = this.chunks[this.chunks.length - 1]!;
      while (chunk.starts.length === 0) {
        this.drop(this.chunks.pop()!);
        chunk = this.chunks[this.chunks.length - 1]!;
      }
      this.load(chunk);
      const at = chunk.starts.pop()!;
      chunk.used = at;
      return this.read(chunk, at);
    }
    let chunk = this.chunks[0]!;
    while (this.head >= chunk.used) {
      this.drop(this.chunks.shift()!);
      this.head = 0;
      chunk = this.chunks[0]!;
    }
    this.load(chunk);
    const index = this.read(chunk, this.head);
    this.head += 8 + this.current.length;
    return index;
  }

  /** Bytes held in memory by the frontier's chunks. */
  bytes(): number {
    return this.held;
  }

  /** Bytes written to disk so far. */
  get spilledBytes(): number {
    return this.spill.writtenBytes;
  }

  /** Removes the spill file, if any (the frontier is unusable afterwards). */
  close(): void {
    this.spill.close();
  }

  /** Writes the chunks needed last to disk until memory is back under the limit. */
  private spillSome(): void {
    // Never the chunk being written (the last) nor, for a queue, the one being read (the first).
    const candidates = this.lifo ? this.chunks.slice(0, -1) : this.chunks.slice(1, -1).reverse();
    for (const c of candidates) {
      if (this.held <= this.memoryBytesMax) break;
      if (c.bytes === null) continue;
      c.spillAt = this.spill.write(c.bytes, c.used);
      this.held -= c.bytes.length;
      c.bytes = null;
      c.view = null;
      this.spilledChunks++;
    }
  }

  /** Brings a spilled chunk back into memory. */
  private load(c: Chunk): void {
    if (c.bytes !== null) return;
    const b = new Uint8Array(Math.max(c.used, 1));
    this.spill.read(b, c.used, c.spillAt);
    c.bytes = b;
    c.view = new DataView(b.buffer);
    this.held += b.length;
  }

  private drop(c: Chunk): void {
    if (c.bytes !== null) this.held -= c.bytes.length;
  }

  private read(chunk: Chunk, at: number): number {
    const view = chunk.view!;
    const len = view.getUint32(at + 4, true);
    // A copy for the stack: the next push may overwrite the popped bytes in place.
    this.current = this.lifo ? chunk.bytes!.slice(at + 8, at + 8 + len) : chunk.bytes!.subarray(at + 8, at + 8 + len);
    return view.getUint32(at, true);
  }
}
