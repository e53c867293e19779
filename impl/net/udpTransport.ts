import { createSocket, type Socket } from 'node:dgram';
import { FrameCodec, FRAME_OVERHEAD_BYTES, type FrameCodecOptions, type NodeId } from './frame.ts';
import { FrameError } from './frameError.ts';
import { decodeDatagram } from './datagram.ts';
import { checkPeer, isIPv6, peerMap, type NetTransport, type PeerAddress, type PeerTable } from './peers.ts';
import { FrameHandlers, copyStats, emptyStats, type FrameHandler, type TransportStats } from './transport.ts';
import { FRESH_KIND, FreshAnswers, ReplayGuard, SeqClock, type ReplayGuardOptions } from './replayGuard.ts';
import { UsageError, requireInt } from './usageError.ts';

/** Largest UDP payload over IPv4. */
export const UDP_DATAGRAM_BYTES_MAX = 65_507;
/** Default batching target: an Ethernet MTU less IPv4 and UDP headers, so batches never fragment. */
export const UDP_BATCH_BYTES_DEFAULT = 1472;

/** Options of {@link udpTransport}. */
export interface UdpTransportOptions extends Omit<FrameCodecOptions, 'frameBytesMax'>, ReplayGuardOptions {
  readonly self: NodeId;
  /** Local address. Default 127.0.0.1, port 0 (ephemeral). */
  readonly bind?: { readonly host?: string; readonly port?: number };
  readonly peers?: PeerTable;
  /** Largest frame; at most (and by default) 65,507 bytes, the largest IPv4 datagram. */
  readonly frameBytesMax?: number;
  /**
   * Frames sent in the same event-loop turn to the same peer are packed into one datagram up to
   * this many bytes; 0 turns batching off. Frames larger than half of it go alone (batching them
   * saves little). Default 1472.
   */
  readonly batchBytesMax?: number;
  /** Kernel receive buffer size, in bytes (default: the system's). */
  readonly receiveBufferBytes?: number;
  /** Socket errors (they never stop the transport). Default: ignored. */
  readonly onError?: (error: Error) => void;
  /** Drop replayed frames (default true; see replayGuard.ts). */
  readonly replayProtection?: boolean;
}

interface Batch {
  frames: Buffer[];
  bytes: number;
}

/**
 * Binds a UDP socket and returns its transport. Each datagram carries one or more frames; bad
 * datagrams are dropped and counted, and the socket keeps serving.
 *
 * Sending to `self` goes through the socket like any other frame (to the peer table's entry for
 * `self` if there is one, else to the bound address).
 */
export async function udpTransport(options: UdpTransportOptions): Promise<NetTransport> {
  const fn = 'udpTransport';
  requireInt(fn, 'self', options.self, 0, 0xffff_ffff);
  const frameBytesMax = options.frameBytesMax ?? UDP_DATAGRAM_BYTES_MAX;
  requireInt(fn, 'frameBytesMax', frameBytesMax, FRAME_OVERHEAD_BYTES, UDP_DATAGRAM_BYTES_MAX);
  const batchBytesMax = options.batchBytesMax ?? UDP_BATCH_BYTES_DEFAULT;
  requireInt(fn, 'batchBytesMax', batchBytesMax, 0, UDP_DATAGRAM_BYTES_MAX);
  const codec = new FrameCodec({ ...options, frameBytesMax });
  const peers = peerMap(fn, options.peers);
  const host = options.bind?.host ?? '127.0.0.1';
  const port = options.bind?.port ?? 0;
  requireInt(fn, 'port', port, 0, 65535);

  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ...(options.receiveBufferBytes ? { recvBufferSize: options.receiveBufferBytes } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return new UdpTransport(options, codec, peers, socket, batchBytesMax);
}

class UdpTransport implements NetTransport {
  readonly self: NodeId;
  readonly address: PeerAddress;
  readonly #codec: FrameCodec;
  readonly #peers: Map<NodeId, PeerAddress>;
  readonly #socket: Socket;
  readonly #batchBytesMax: number;
  readonly #stats = emptyStats();
  readonly #handlers = new FrameHandlers();
  readonly #seq: SeqClock;
  readonly #guard: ReplayGuard | undefined;
  readonly #fresh: FreshAnswers;
  readonly #batches = new Map<NodeId, Batch>();
  #flushScheduled = false;
  #closed = false;

  constructor(options: UdpTransportOptions, codec: FrameCodec, peers: Map<NodeId, PeerAddress>, socket: Socket, batchBytesMax: number) {
    this.self = options.self;
    this.#codec = codec;
    this.#peers = peers;
    this.#socket = socket;
    this.#batchBytesMax = batchBytesMax;
    this.#seq = new SeqClock(options.nowMs);
    this.#guard = options.replayProtection === false ? undefined : new ReplayGuard(options);
    this.#fresh = new FreshAnswers(options.nowMs);
    const bound = socket.address();
    this.address = { host: bound.address, port: bound.port };
    const onError = options.onError;
    socket.on('error', (e) => onError?.(e));
    socket.on('message', (datagram) => this.#receive(datagram));
  }

  get stats(): TransportStats {
    return copyStats(this.#stats);
  }

  get payloadBytesMax(): number {
    return this.#codec.payloadBytesMax;
  }

  setPeer(id: NodeId, address: PeerAddress): void {
    checkPeer('udpTransport.setPeer', id, address);
    this.#peers.set(id, { host: address.host, port: address.port });
  }

  send(to: NodeId, kind: number, payload: Uint8Array): void {
    const fn = 'udpTransport.send';
    if (this.#closed) throw new UsageError(fn, 'closed', 'the transport is closed');
    if (!this.#peers.has(to) && to !== this.self) throw new UsageError(fn, 'unknown-peer', `node ${to} is not in the peer table`);
    const frame = this.#codec.encode({ kind, from: this.self, to, seq: this.#seq.next(to) }, payload);
    this.#stats.framesSent++;
    this.#stats.bytesSent += frame.length;
    if (frame.length * 2 > this.#batchBytesMax) {
      // Too big to gain from batching: send it now, after what is queued for that peer (order).
      this.#flushPeer(to);
      this.#transmit(to, [frame]);
      return;
    }
    let batch = this.#batches.get(to);
    if (!batch) {
      batch = { frames: [], bytes: 0 };
      this.#batches.set(to, batch);
    }
    if (batch.bytes + frame.length > this.#batchBytesMax) this.#flushPeer(to);
    batch.frames.push(frame);
    batch.bytes += frame.length;
    // Everything sent by the current callback (a handler reacting to one datagram, a timer) goes
    // out together once it returns: a microtask adds no event-loop turn to the latency.
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flushAll());
    }
  }

  onFrame(handler: FrameHandler): () => void {
    return this.#handlers.add(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#batches.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #flushAll(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    for (const to of this.#batches.keys()) this.#flushPeer(to);
  }

  #flushPeer(to: NodeId): void {
    const batch = this.#batches.get(to);
    if (!batch || batch.frames.length === 0) return;
    this.#transmit(to, batch.frames);
    batch.frames = [];
    batch.bytes = 0;
  }

  #transmit(to: NodeId, frames: Buffer[]): void {
    const peer = this.#peers.get(to) ?? this.address;
    this.#stats.packetsSent++;
    // dgram gathers the array into one datagram without a copy.
    this.#socket.send(frames, peer.port, peer.host, (error) => {
      if (error) this.#stats.dropped.unreachable += frames.length;
    });
  }

  #receive(datagram: Buffer): void {
    if (this.#closed) return;
    for (const result of decodeDatagram(this.#codec, datagram)) {
      if (result instanceof FrameError) {
        this.#stats.dropped[result.code]++;
      } else if (result.to !== this.self) {
        this.#stats.dropped.misrouted++;
      } else if (this.#guard?.stale(result.seq)) {
        this.#stats.dropped.stale++;
        this.#answerStale(result.from);
      } else if (this.#guard && !this.#guard.accept(result.from, result.seq)) {
        this.#stats.dropped.replayed++;
      } else if (result.kind === FRESH_KIND) {
        this.#seq.observe(result.from, result.seq);
      } else {
        this.#seq.observe(result.from, result.seq);
        this.#stats.framesReceived++;
        this.#stats.bytesReceived += result.payload.length + FRAME_OVERHEAD_BYTES;
        this.#handlers.emit(result);
      }
    }
  }

  /** Tells a peer whose frame was stale this node's clock (an empty {@link FRESH_KIND} frame). */
  #answerStale(peer: NodeId): void {
    if ((this.#peers.has(peer) || peer === this.self) && this.#fresh.due(peer)) this.send(peer, FRESH_KIND, new Uint8Array(0));
  }
}
