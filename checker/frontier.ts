/**
 * The frontier: packed states in large byte chunks, used as a FIFO queue (BFS) or a LIFO stack
 * (DFS). Each entry is [state index u32][length u32][bytes]; nothing is stored as objects.
 */
/** Chunks start small (tiny runs stay tiny) and double up to 1 MiB. */
const FIRST_CHUNK_BYTES = 1 << 14;
const MAX_CHUNK_BYTES = 1 << 20;

interface Chunk {
  bytes: Uint8Array;
  view: DataView;
  /** Bytes written. */
  used: number;
  /** Entry offsets (stack only: to pop from the back). */
  starts: number[];
}

export class Frontier {
  private chunks: Chunk[] = [];
  /** Read offset in the first chunk (queue only). */
  private head = 0;
  length = 0;
  /** Bytes of the entry last popped; valid until the next push. */
  current: Uint8Array = new Uint8Array(0);

  constructor(private readonly lifo: boolean) {}

  push(index: number, bytes: Uint8Array, len: number): void {
    const need = 8 + len;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + need > chunk.bytes.length) {
      const size = chunk ? Math.min(MAX_CHUNK_BYTES, chunk.bytes.length * 2) : FIRST_CHUNK_BYTES;
      const b = new Uint8Array(Math.max(size, need));
      chunk = { bytes: b, view: new DataView(b.buffer), used: 0, starts: [] };
      this.chunks.push(chunk);
    }
    if (this.lifo) chunk.starts.push(chunk.used);
    chunk.view.setUint32(chunk.used, index, true);
    chunk.view.setUint32(chunk.used + 4, len, true);
    chunk.bytes.set(bytes.subarray(0, len), chunk.used + 8);
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
        this.chunks.pop();
        chunk = this.chunks[this.chunks.length - 1]!;
      }
      const at = chunk.starts.pop()!;
      chunk.used = at;
      return this.read(chunk, at);
    }
    let chunk = this.chunks[0]!;
    while (this.head >= chunk.used) {
      this.chunks.shift();
      this.head = 0;
      chunk = this.chunks[0]!;
    }
    const index = this.read(chunk, this.head);
    this.head += 8 + this.current.length;
    return index;
  }

  /** Bytes held by the frontier's chunks. */
  bytes(): number {
    return this.chunks.reduce((n, c) => n + c.bytes.length, 0);
  }

  private read(chunk: Chunk, at: number): number {
    const len = chunk.view.getUint32(at + 4, true);
    // A copy for the stack: the next push may overwrite the popped bytes in place.
    this.current = this.lifo ? chunk.bytes.slice(at + 8, at + 8 + len) : chunk.bytes.subarray(at + 8, at + 8 + len);
    return chunk.view.getUint32(at, true);
  }
}
