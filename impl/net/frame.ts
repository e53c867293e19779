import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { HmacSha256 } from './hmacSha256.ts';
import { FrameError } from './frameError.ts';
import { UsageError, requireInt } from './usageError.ts';

/**
 * Frame layout, version 1 (all integers big-endian):
 *
 * ```
 *  0      1      2             4                  8                 12                16
 *  +------+------+-------------+------------------+-----------------+-----------------+
 *  | ver  | kind | reserved=0  | clusterId u32    | from u32        | to u32          |
 *  +------+------+-------------+------------------+-----------------+-----------------+
 *  16                                  24                 28
 *  +-----------------------------------+------------------+----------------+-----------+
 *  | seq u64 (< 2^53)                  | payloadLength u32| payload ...    | tag (16)  |
 *  +-----------------------------------+------------------+----------------+-----------+
 * ```
 *
 * The version comes first because it decides the layout of everything after it; the payload length
 * sits in the fixed header, so a decoder knows a frame's size after 28 bytes. The tag is
 * HMAC-SHA256(clusterKey, header ‖ payload) truncated to 16 bytes.
 */
export const FRAME_VERSION = 1;
/** Bytes of the fixed header before the payload. */
export const FRAME_HEADER_BYTES = 28;
/** Bytes of the authentication tag after the payload. */
export const FRAME_TAG_BYTES = 16;
/** Header + tag: a frame's size beyond its payload. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + FRAME_TAG_BYTES;
/** Default limit on a whole frame (header + payload + tag): 1 MiB. */
export const FRAME_BYTES_MAX_DEFAULT = 1 << 20;
/** Smallest accepted cluster key: 128 bits. */
export const CLUSTER_KEY_BYTES_MIN = 16;

const U32_MAX = 0xffff_ffff;
/** The high 32 bits of a sequence number below 2^53. */
const SEQ_HIGH_MAX = 0x1f_ffff;

/** A node's address on the wire: an unsigned 32-bit id, unique within a cluster. */
export type NodeId = number;

/** The fields a sender chooses; the codec adds version, cluster id, length and tag. */
export interface FrameHeader {
  /** Channel byte, opaque to the network (the runtime tells messages, requests, replies apart). */
  readonly kind: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Per-sender sequence number in [0, 2^53). The network does not deduplicate on it. */
  readonly seq: number;
}

/** An authenticated, decoded frame. */
export interface Frame extends FrameHeader {
  readonly clusterId: number;
  /**
   * The opaque payload bytes. May be a view into the received chunk (no copy): decode it or copy
   * it before keeping it for long.
   */
  readonly payload: Buffer;
}

/** Options of {@link FrameCodec}. */
export interface FrameCodecOptions {
  /** This cluster's id; frames of other clusters are rejected as `wrong-cluster`. */
  readonly clusterId: number;
  /** The shared cluster key (at least 16 bytes) that authenticates every frame. */
  readonly key: Uint8Array | KeyObject;
  /** Largest whole frame accepted or produced, in bytes. Default 1 MiB. */
  readonly frameBytesMax?: number;
}

/** A parsed fixed header whose fields passed the checks that need no payload. */
export interface ParsedHeader {
  readonly kind: number;
  readonly clusterId: number;
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly payloadBytes: number;
  /** Whole frame size: header + payload + tag; never above the codec's limit. */
  readonly frameBytes: number;
}

/**
 * Encodes and authenticates frames for one cluster, and checks received ones. Holds no per-stream
 * state: use {@link FrameStreamDecoder} for TCP streams and {@link decodeDatagram} for UDP.
 */
export class FrameCodec {
  readonly clusterId: number;
  readonly frameBytesMax: number;
  /** Largest payload that fits in a frame under the limit. */
  readonly payloadBytesMax: number;
  readonly #hmac: HmacSha256;

  constructor(options: FrameCodecOptions) {
    const fn = 'FrameCodec';
    requireInt(fn, 'clusterId', options.clusterId, 0, U32_MAX);
    const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    requireInt(fn, 'frameBytesMax', frameBytesMax, FRAME_OVERHEAD_BYTES, U32_MAX);
    this.clusterId = options.clusterId;
    this.frameBytesMax = frameBytesMax;
    this.payloadBytesMax = frameBytesMax - FRAME_OVERHEAD_BYTES;
    if (options.key instanceof Uint8Array) {
      if (options.key.length < CLUSTER_KEY_BYTES_MIN) {
        throw new UsageError(fn, 'short-key', `the cluster key must have at least ${CLUSTER_KEY_BYTES_MIN} bytes`);
      }
      this.#hmac = new HmacSha256(options.key);
    } else {
      if (options.key.type !== 'secret' || (options.key.symmetricKeySize ?? 0) < CLUSTER_KEY_BYTES_MIN) {
        throw new UsageError(fn, 'short-key', `the cluster key must be a secret key of at least ${CLUSTER_KEY_BYTES_MIN} bytes`);
      }
      this.#hmac = new HmacSha256(options.key.export());
    }
  }

  /**
   * Encodes one frame: header, payload (copied), tag. Throws a {@link UsageError} (code
   * `FrameCodec.encode/...`) on a field out of range or a payload over the limit.
   */
  encode(header: FrameHeader, payload: Uint8Array): Buffer {
    const fn = 'FrameCodec.encode';
    requireInt(fn, 'kind', header.kind, 0, 0xff);
    requireInt(fn, 'from', header.from, 0, U32_MAX);
    requireInt(fn, 'to', header.to, 0, U32_MAX);
    requireInt(fn, 'seq', header.seq, 0, Number.MAX_SAFE_INTEGER);
    if (!(payload instanceof Uint8Array)) throw new UsageError(fn, 'bad-payload', 'payload must be a Uint8Array');
    if (payload.length > this.payloadBytesMax) {
      throw new UsageError(fn, 'oversized', `payload of ${payload.length} bytes exceeds the limit of ${this.payloadBytesMax}`);
    }
    const frame = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + payload.length);
    frame[0] = FRAME_VERSION;
    frame[1] = header.kind;
    frame.writeUInt16BE(0, 2);
    frame.writeUInt32BE(this.clusterId, 4);
    frame.writeUInt32BE(header.from, 8);
    frame.writeUInt32BE(header.to, 12);
    frame.writeUInt32BE(Math.floor(header.seq / 0x1_0000_0000), 16);
    frame.writeUInt32BE(header.seq >>> 0, 20);
    frame.writeUInt32BE(payload.length, 24);
    frame.set(payload, FRAME_HEADER_BYTES);
    const bodyEnd = FRAME_HEADER_BYTES + payload.length;
    this.#tag(frame, 0, bodyEnd).copy(frame, bodyEnd, 0, FRAME_TAG_BYTES);
    return frame;
  }

  /**
   * Checks the fixed header at `offset` (the caller guarantees 28 bytes there). Returns the parsed
   * header, or the error that makes the rest of the stream unreadable (`bad-version`, `malformed`,
   * `oversized`). Never throws.
   */
  parseHeader(bytes: Buffer, offset: number): ParsedHeader | FrameError {
    const version = bytes[offset];
    if (version !== FRAME_VERSION) return new FrameError('bad-version', `version ${version} is not ${FRAME_VERSION}`);
    if (bytes[offset + 2] !== 0 || bytes[offset + 3] !== 0) return new FrameError('malformed', 'reserved header bits are set');
    const seqHigh = bytes.readUInt32BE(offset + 16);
    if (seqHigh > SEQ_HIGH_MAX) return new FrameError('malformed', 'sequence number is not below 2^53');
    const payloadBytes = bytes.readUInt32BE(offset + 24);
    if (payloadBytes > this.payloadBytesMax) {
      return new FrameError('oversized', `declared payload of ${payloadBytes} bytes exceeds the limit of ${this.payloadBytesMax}`);
    }
    return {
      kind: bytes[offset + 1]!,
      clusterId: bytes.readUInt32BE(offset + 4),
      from: bytes.readUInt32BE(offset + 8),
      to: bytes.readUInt32BE(offset + 12),
      seq: seqHigh * 0x1_0000_0000 + bytes.readUInt32BE(offset + 20),
      payloadBytes,
      frameBytes: FRAME_OVERHEAD_BYTES + payloadBytes,
    };
  }

  /**
   * Completes a frame whose header was parsed and whose `header.frameBytes` bytes are present at
   * `offset`: checks the cluster id, then the tag. The payload is a view into `bytes`. Never throws.
   */
  finish(bytes: Buffer, offset: number, header: ParsedHeader): Frame | FrameError {
    if (header.clusterId !== this.clusterId) {
      return new FrameError('wrong-cluster', `cluster ${header.clusterId} is not ${this.clusterId}`);
    }
    const bodyEnd = offset + FRAME_HEADER_BYTES + header.payloadBytes;
    const expected = this.#tag(bytes, offset, bodyEnd).subarray(0, FRAME_TAG_BYTES);
    if (!timingSafeEqual(expected, bytes.subarray(bodyEnd, bodyEnd + FRAME_TAG_BYTES))) {
      return new FrameError('bad-tag', 'authentication tag does not match');
    }
    return {
      kind: header.kind,
      clusterId: header.clusterId,
      from: header.from,
      to: header.to,
      seq: header.seq,
      payload: bytes.subarray(offset + FRAME_HEADER_BYTES, bodyEnd),
    };
  }

  /**
   * Decodes exactly one frame that fills `bytes`. Throws only {@link FrameError}: trailing bytes
   * are `malformed`, missing ones `truncated`.
   */
  decode(bytes: Uint8Array): Frame {
    const buf = asBuffer(bytes);
    if (buf.length < FRAME_HEADER_BYTES) throw new FrameError('truncated', `${buf.length} bytes is shorter than a header`);
    const header = this.parseHeader(buf, 0);
    if (header instanceof FrameError) throw header;
    if (buf.length < header.frameBytes) throw new FrameError('truncated', `${buf.length} of ${header.frameBytes} bytes`);
    if (buf.length > header.frameBytes) throw new FrameError('malformed', `${buf.length - header.frameBytes} bytes after the frame`);
    const frame = this.finish(buf, 0, header);
    if (frame instanceof FrameError) throw frame;
    return frame;
  }

  #tag(bytes: Buffer, start: number, end: number): Buffer {
    return this.#hmac.digest(bytes, start, end);
  }
}

/** A view of `bytes` as a Buffer, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
