/**
 * Message size as a checked property. The executor's transports carry a frame payload of at most
 * a fixed size (udp: one datagram; tcp: the frame limit), and a node whose handler sends more
 * cannot deliver it: the runtime drops it (`oversized`), which a protocol that waits for it may
 * never recover from (issue 24: a raft-kv leader about 4,900 entries ahead of a follower sent an
 * AppendEntries of more than 65,463 bytes over udp, and the cluster never got a leader back).
 *
 * So the checker knows the limit (`maxMessageBytes`, CLI `--max-message-bytes N`; by default the
 * udp payload limit, the smaller of the two) and checks it as an invariant, `message size`: no
 * message in flight — protocol message, client request or reply — has an encoded payload larger
 * than the limit. Payloads are encoded exactly as the runtime encodes them (the spec's schemas), so
 * the size the checker sees is the size the transport gets. A violation comes with its trace.
 *
 * Limitation: the model's bounds keep its messages small (a few log entries); a size that grows
 * with a bound the checker cannot reach is found only with a limit lowered to the bounds' scale
 * (`--max-message-bytes`): raft's AppendEntries carry at most `batch` entries, so a limit that
 * fits one batch at the model's entry size holds at every log length.
 */
import type { Property } from '../specs/core/index.ts';
import type { Envelopes } from './envelopes.ts';
import type { WorldView } from './world-view.ts';

/**
 * The largest payload the udp transport carries: a 65,507-byte IPv4 datagram less the frame's
 * 44 bytes of header and tag (impl/net/udpTransport.ts, impl/net/frame.ts; a test holds them equal).
 */
export const UDP_PAYLOAD_BYTES_MAX = 65_507 - 44;

/** The invariant's name in results and traces. */
export const MESSAGE_SIZE = 'message size';

/** The `message size` invariant for payloads of at most `limit` bytes. */
export function messageSizeInvariant(envelopes: Envelopes, limit: number): Property {
  return {
    kind: 'invariant',
    name: MESSAGE_SIZE,
    check: (w) => {
      // Envelopes are interned: while none made so far is too large, no state holds one.
      if (envelopes.largestPayloadBytes <= limit) return true;
      for (const e of (w as WorldView).state.net) {
        if (e.bytes.length - headerBytes(e.from, e.to) > limit) return false;
      }
      return true;
    },
  };
}

/** Bytes of an envelope's header: varint from, varint to, channel byte (checker/envelopes.ts). */
function headerBytes(from: number, to: number): number {
  return varintBytes(from) + varintBytes(to) + 1;
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
