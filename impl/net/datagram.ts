import { FRAME_HEADER_BYTES, asBuffer, type FrameCodec } from './frame.ts';
import { FrameError } from './frameError.ts';
import type { FrameResult } from './frameStreamDecoder.ts';

/**
 * Decodes one datagram holding one or more frames back to back (UDP batching). Never throws.
 *
 * A bad tag or wrong cluster drops that frame and decoding goes on with the next one; a frame cut
 * short (`truncated`), a bad version, a malformed header or an oversized length ends the datagram,
 * because the next frame's start is unknown. Payloads are views into `datagram`.
 */
export function decodeDatagram(codec: FrameCodec, datagram: Uint8Array): FrameResult[] {
  const bytes = asBuffer(datagram);
  const results: FrameResult[] = [];
  if (bytes.length === 0) {
    results.push(new FrameError('truncated', 'empty datagram'));
    return results;
  }
  let pos = 0;
  while (pos < bytes.length) {
    const left = bytes.length - pos;
    if (left < FRAME_HEADER_BYTES) {
      results.push(new FrameError('truncated', `${left} bytes left, shorter than a header`));
      break;
    }
    const header = codec.parseHeader(bytes, pos);
    if (header instanceof FrameError) {
      results.push(header);
      break;
    }
    if (left < header.frameBytes) {
      results.push(new FrameError('truncated', `${left} of ${header.frameBytes} bytes`));
      break;
    }
    results.push(codec.finish(bytes, pos, header));
    pos += header.frameBytes;
  }
  return results;
}
