import type { Frame, NodeId } from './frame.ts';
import { FRAME_ERROR_CODES, type FrameErrorCode } from './frameError.ts';

/**
 * Why a transport dropped a frame. Decoder rejections keep their {@link FrameErrorCode}; the rest:
 * - `misrouted`: an authentic frame addressed to another node;
 * - `loss`, `partition`: injected faults (memory transport);
 * - `unreachable`: the destination is down, unknown to the network, or the socket send failed;
 * - `queue-full`: the outgoing buffer to a slow or absent peer is at its limit (tcp);
 * - `replayed`: an authentic frame seen before, or older than the replay window (udp, tcp);
 * - `stale`: an authentic frame stamped before this node started (a replay of a frame its previous
 *   incarnation got, one in flight across its restart, or a sender whose clock lags: the sender is
 *   told this node's clock) (udp, tcp);
 * - `no-hello`: an inbound tcp connection closed before it authenticated (no valid hello in time,
 *   a bad or replayed hello, or evicted by newer unauthenticated connections) — counted per
 *   connection, not per frame.
 */
export type DropReason = FrameErrorCode | 'misrouted' | 'loss' | 'partition' | 'unreachable' | 'queue-full' | 'replayed' | 'stale' | 'no-hello';

/** Every {@link DropReason}, in a stable order. */
export const DROP_REASONS: readonly DropReason[] = [...FRAME_ERROR_CODES, 'misrouted', 'loss', 'partition', 'unreachable', 'queue-full', 'replayed', 'stale', 'no-hello'];

/** Counters of one transport since it was made. */
export interface TransportStats {
  /** Frames handed to the wire (a duplicated frame counts once), and their bytes with framing. */
  framesSent: number;
  bytesSent: number;
  /** Datagrams or socket writes that carried them (batching makes this smaller than framesSent). */
  packetsSent: number;
  /** Authentic frames delivered to the handlers, and their bytes with framing. */
  framesReceived: number;
  bytesReceived: number;
  /** Frames dropped, by reason; the transport keeps serving after every one of them. */
  dropped: Record<DropReason, number>;
}

/** Called for each authentic frame addressed to this node. Handlers must not throw. */
export type FrameHandler = (frame: Frame) => void;

/**
 * A node's endpoint on the cluster network, addressed by node id. Delivery is best effort, like the
 * model's network: frames may be lost, duplicated or reordered. Every frame is authenticated with
 * the cluster key; the socket transports also drop replayed frames (see replayGuard.ts), the
 * memory network does not (it duplicates frames on purpose).
 */
export interface Transport {
  /** This node's id. */
  readonly self: NodeId;
  /** Largest payload `send` accepts (the frame limit less the 44 bytes of header and tag). */
  readonly payloadBytesMax: number;
  /**
   * Queues one frame to `to` (`kind` is the channel byte, `payload` the packed message). Never
   * blocks and never reports delivery; throws a `UsageError` only on misuse (closed transport,
   * unknown peer, payload over the limit).
   */
  send(to: NodeId, kind: number, payload: Uint8Array): void;
  /** Registers a handler for incoming frames; returns a function that unregisters it. */
  onFrame(handler: FrameHandler): () => void;
  /** A snapshot of the counters. */
  readonly stats: TransportStats;
  /** Stops sending and receiving and frees sockets; pending frames are discarded. Idempotent. */
  close(): Promise<void>;
}

/** Fresh zeroed counters. */
export function emptyStats(): TransportStats {
  const dropped = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) dropped[reason] = 0;
  return { framesSent: 0, bytesSent: 0, packetsSent: 0, framesReceived: 0, bytesReceived: 0, dropped };
}

/** A deep copy of `stats`, so callers cannot change the live counters. */
export function copyStats(stats: TransportStats): TransportStats {
  return { ...stats, dropped: { ...stats.dropped } };
}

/** Handler registry shared by the transports. */
export class FrameHandlers {
  #handlers: FrameHandler[] = [];

  add(handler: FrameHandler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /** Calls every handler; the array is replaced on change, so (un)registering inside one is safe. */
  emit(frame: Frame): void {
    for (const h of this.#handlers) h(frame);
  }
}
