/**
 * Reading the history files given to `pacta lincheck | txcheck`: only regular files (a FIFO
 * would block the read forever, /dev/zero would fill memory, a folder is not a history), at
 * most a documented size, never empty. Every refusal is a UsageError (exit 2) naming the file.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from './io.ts';

/**
 * The default bound on a history file's size: 256 MiB (`--max-bytes` raises it up to
 * {@link MAX_BYTES_CEILING}, the longest string V8 makes from a file).
 */
export const DEFAULT_MAX_BYTES = 256 * 2 ** 20;
export const MAX_BYTES_CEILING = 512 * 2 ** 20 - 64;

/** Parses `--max-bytes N` (bytes, or with a K/M/G suffix, binary units). */
export function parseMaxBytes(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_BYTES;
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 2 ** (10 * ' KMG'.indexOf((m[2] || ' ').toUpperCase())) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BYTES_CEILING) {
    throw new UsageError(`--max-bytes expects a size from 1 to ${MAX_BYTES_CEILING} bytes (e.g. 300M), got '${text}'`);
  }
  return n;
}

/** Opens a history file for reading; refuses anything but a regular file within `maxBytes`. */
function openHistoryFile(path: string, label: string, maxBytes: number): number {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${label}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`${label} is a directory, not a history file`);
    if (!st.isFile()) {
      const what = st.isFIFO() ? 'a named pipe' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new UsageError(`${label} is ${what}: history files must be regular files`);
    }
    if (st.size > maxBytes) throw tooLarge(label, st.size, maxBytes);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

const tooLarge = (label: string, size: number | string, maxBytes: number): UsageError =>
  new UsageError(`${label} is ${size} bytes, more than the ${maxBytes} bytes allowed (--max-bytes raises the limit, up to ${MAX_BYTES_CEILING})`);
const empty = (label: string): UsageError => new UsageError(`${label} is empty: a history needs at least one operation`);

/** Reads a history file as UTF-8 text; refuses anything but a non-empty regular file within `maxBytes`. */
export function readHistoryFile(path: string, label: string, maxBytes = DEFAULT_MAX_BYTES): string {
  const fd = openHistoryFile(path, label, maxBytes);
  try {
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${label}: ${(e as Error).message}`);
    }
    if (text.trim() === '') throw empty(label);
    return text;
  } finally {
    closeSync(fd);
  }
}

/** The size of the pieces {@link readHistoryChunks} reads. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads a history file as UTF-8 text in pieces of about 1 MiB (a character is never split),
 * for readers that parse as the text arrives; the same refusals as {@link readHistoryFile}
 * (the emptiness check comes after the last piece; a file that grows past `maxBytes` while
 * read is refused too).
 */
export function* readHistoryChunks(path: string, label: string, maxBytes = DEFAULT_MAX_BYTES): Generator<string> {
  const fd = openHistoryFile(path, label, maxBytes);
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    const decoder = new StringDecoder('utf8');
    let total = 0;
    let blank = true;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      } catch (e) {
        throw new UsageError(`cannot read ${label}: ${(e as Error).message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge(label, `at least ${total}`, maxBytes);
      const text = decoder.write(buffer.subarray(0, n));
      if (blank && /\S/.test(text)) blank = false;
      yield text;
    }
    const rest = decoder.end();
    if (blank && /\S/.test(rest)) blank = false;
    if (blank) throw empty(label);
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}
