/**
 * A temporary file that frontier chunks go to when they pass the memory budget: created on the
 * first write, appended to, read back by offset, and removed on close. Shared by the
 * single-threaded frontier and the parallel BFS levels.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SpillFile {
  private file: { dir: string; fd: number } | null = null;
  /** Where the next write goes. */
  private end = 0;
  /** Bytes written so far (never reset). */
  writtenBytes = 0;

  constructor(private readonly prefix: string) {}

  /** Appends `len` bytes of `bytes`; returns their offset in the file. */
  write(bytes: Uint8Array, len: number): number {
    if (!this.file) {
      const dir = mkdtempSync(join(tmpdir(), this.prefix));
      this.file = { dir, fd: openSync(join(dir, 'spill'), 'w+') };
    }
    const at = this.end;
    writeSync(this.file.fd, bytes, 0, len, at);
    this.end += len;
    this.writtenBytes += len;
    return at;
  }

  /** Reads `len` bytes written at offset `at` into `into`. */
  read(into: Uint8Array, len: number, at: number): void {
    readSync(this.file!.fd, into, 0, len, at);
  }

  /** Writes start again from the beginning (the caller has read back everything written). */
  rewind(): void {
    this.end = 0;
  }

  /** Removes the file, if any. */
  close(): void {
    if (!this.file) return;
    closeSync(this.file.fd);
    rmSync(this.file.dir, { recursive: true, force: true });
    this.file = null;
  }
}
