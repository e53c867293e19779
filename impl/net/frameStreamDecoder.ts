import { FRAME_HEADER_BYTES, asBuffer, type Frame, type FrameCodec, type ParsedHeader } from './frame.ts';
import { FrameError } from './frameError.ts';

/** First capacity of the buffer of a frame split across chunks; it doubles as bytes arrive. */
const BODY_BYTES_INITIAL = 16 * 1024;

/** One decoding outcome: a good frame, or the reason a frame was dropped. */
export type FrameResult = Frame | FrameError;

/**
 * Incremental decoder for a byte stream (TCP, TLS) in which bytes arrive in arbitrary chunks.
 *
 * Guarantees: it never throws; it buffers at most one frame, and allocates at most the codec's
 * `frameBytesMax` for it, only after the header's declared length passed the limit check. The
 * buffer grows with the bytes that actually arrive (at most twice them), so a peer that declares a
 * large frame and trickles it pins little memory. A frame lying whole inside one chunk is decoded
 * in place, without a copy.
 *
 * A bad tag or a wrong cluster id drops that frame and decoding goes on (its length was within the
 * limit, so the next frame's start is known). A bad version, a malformed header or an oversized
 * length loses the framing: the decoder reports it once, then {@link failed} is true and it
 * discards all further input; the transport should close the connection.
 */
export class FrameStreamDecoder {
  readonly #codec: FrameCodec;
  readonly #headerScratch = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #header: ParsedHeader | undefined;
  #body: Buffer | undefined;
  #bodyFill = 0;
  #failed = false;

  constructor(codec: FrameCodec) {
    this.#codec = codec;
  }

  /** True once the framing is lost; further input is ignored. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes of an incomplete frame held so far (at most `frameBytesMax`). */
  get bufferedBytes(): number {
    return this.#body ? this.#bodyFill : this.#headerFill;
  }

  /** Feeds the next chunk; returns the frames and errors it completed, in stream order. */
  push(chunk: Uint8Array): FrameResult[] {
    const results: FrameResult[] = [];
    if (this.#failed) return results;
    const bytes = asBuffer(chunk);
    let pos = 0;
    while (pos < bytes.length) {
      if (this.#body && this.#header) {
        // Filling a frame that started in an earlier chunk.
        const take = Math.min(this.#header.frameBytes - this.#bodyFill, bytes.length - pos);
        this.#reserve(this.#bodyFill + take);
        bytes.copy(this.#body, this.#bodyFill, pos, pos + take);
        this.#bodyFill += take;
        pos += take;
        if (this.#bodyFill === this.#header.frameBytes) {
          results.push(this.#codec.finish(this.#body, 0, this.#header));
          this.#reset();
        }
        continue;
      }
      let header: ParsedHeader | FrameError;
      if (this.#headerFill === 0 && bytes.length - pos >= FRAME_HEADER_BYTES) {
        header = this.#codec.parseHeader(bytes, pos);
        if (header instanceof FrameError) return this.#fail(results, header);
        if (bytes.length - pos >= header.frameBytes) {
          // Fast path: the whole frame is in this chunk.
          results.push(this.#codec.finish(bytes, pos, header));
          pos += header.frameBytes;
          continue;
        }
        this.#startBody(header, bytes.subarray(pos, pos + FRAME_HEADER_BYTES));
        pos += FRAME_HEADER_BYTES;
        continue;
      }
      const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, bytes.length - pos);
      bytes.copy(this.#headerScratch, this.#headerFill, pos, pos + take);
      this.#headerFill += take;
      pos += take;
      if (this.#headerFill < FRAME_HEADER_BYTES) continue;
      header = this.#codec.parseHeader(this.#headerScratch, 0);
      if (header instanceof FrameError) return this.#fail(results, header);
      // The tag always follows the header, so the frame is never complete here.
      this.#startBody(header, this.#headerScratch);
    }
    return results;
  }

  /**
   * Signals the end of the stream. Returns a `truncated` error if it ended inside a frame (nothing
   * otherwise) and resets the decoder.
   */
  end(): FrameResult[] {
    const partial = this.bufferedBytes;
    const failed = this.#failed;
    this.#reset();
    this.#failed = false;
    if (failed || partial === 0) return [];
    return [new FrameError('truncated', `stream ended ${partial} bytes into a frame`)];
  }

  #startBody(header: ParsedHeader, headerBytes: Buffer): void {
    this.#header = header;
    this.#body = Buffer.allocUnsafe(Math.min(header.frameBytes, BODY_BYTES_INITIAL));
    headerBytes.copy(this.#body, 0, 0, FRAME_HEADER_BYTES);
    this.#bodyFill = FRAME_HEADER_BYTES;
    this.#headerFill = 0;
  }

  /** Grows the frame buffer to hold `bytes`, doubling; bounded by the frame's checked size. */
  #reserve(bytes: number): void {
    const body = this.#body!;
    if (bytes <= body.length) return;
    let capacity = body.length;
    while (capacity < bytes) capacity *= 2;
    const grown = Buffer.allocUnsafe(Math.min(capacity, this.#header!.frameBytes));
    body.copy(grown, 0, 0, this.#bodyFill);
    this.#body = grown;
  }

  #fail(results: FrameResult[], error: FrameError): FrameResult[] {
    this.#reset();
    this.#failed = true;
    results.push(error);
    return results;
  }

  #reset(): void {
    this.#header = undefined;
    this.#body = undefined;
    this.#bodyFill = 0;
    this.#headerFill = 0;
  }
}
