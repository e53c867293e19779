/**
 * Why a frame was rejected. The decoder reports every bad input as one of these; transports drop
 * the frame and count it under its code.
 *
 * - `bad-version`: the first byte is not a frame version we speak;
 * - `malformed`: a header field is impossible (reserved bits set, sequence beyond 2^53);
 * - `oversized`: the declared payload length exceeds the configured frame limit;
 * - `truncated`: the bytes ended inside a frame (short datagram, connection closed mid-frame);
 * - `wrong-cluster`: a well-formed frame of another cluster (checked before the tag, so a
 *   misconfigured peer is told apart from an attacker);
 * - `bad-tag`: the authentication tag does not match (wrong key, or bytes altered in transit).
 */
export type FrameErrorCode = 'bad-tag' | 'wrong-cluster' | 'truncated' | 'oversized' | 'bad-version' | 'malformed';

/** Every {@link FrameErrorCode}, in a stable order (for stats tables and tests). */
export const FRAME_ERROR_CODES: readonly FrameErrorCode[] = [
  'bad-tag',
  'wrong-cluster',
  'truncated',
  'oversized',
  'bad-version',
  'malformed',
];

/**
 * A rejected frame. The only exception type the frame decoder ever produces; stream and datagram
 * decoders return it as a value instead of throwing.
 */
export class FrameError extends Error {
  /** Why the frame was rejected. */
  readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'FrameError';
    this.code = code;
  }
}
