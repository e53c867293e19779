import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { FrameCodec, FRAME_OVERHEAD_BYTES, type FrameCodecOptions, type NodeId } from './frame.ts';
import { FrameError } from './frameError.ts';
import { FrameStreamDecoder } from './frameStreamDecoder.ts';
import { checkPeer, peerMap, type NetTransport, type PeerAddress, type PeerTable } from './peers.ts';
import { FrameHandlers, copyStats, emptyStats, type FrameHandler, type TransportStats } from './transport.ts';
import { UsageError, requireInt } from './usageError.ts';

/**
 * Mutual TLS material (PEM). Every node presents `cert` and accepts only peers whose certificate
 * chains to `ca`; frames are still authenticated with the cluster key inside the tunnel.
 */
export interface TcpTlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly ca: string | Buffer | readonly (string | Buffer)[];
  /** Name checked against peers' certificates instead of their host (e.g. one shared cluster name). */
  readonly servername?: string;
}

/** Options of {@link tcpTransport}. */
export interface TcpTransportOptions extends FrameCodecOptions {
  readonly self: NodeId;
  /** Local listening address. Default 127.0.0.1, port 0 (ephemeral). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  readonly peers?: PeerTable;
  /** Turns on mutual TLS. */
  readonly tls?: TcpTlsOptions;
  /** Bytes queued per peer while it is unreachable or slow; frames beyond are dropped. Default 8 MiB. */
  readonly queueBytesMax?: number;
  /** Reconnect backoff: first delay, doubled per failure up to the max. Defaults 50 and 2000 ms. */
  readonly reconnectDelayMsMin?: number;
  readonly reconnectDelayMsMax?: number;
  /** Most simultaneous inbound connections. Default 1024. */
  readonly connectionsMax?: number;
  /**
   * An inbound connection that stays inside one frame this long is closed (counted `truncated`):
   * a client cannot hold memory by trickling a frame. Idle connections between frames are kept.
   * Default 10,000 ms.
   */
  readonly partialFrameTimeoutMs?: number;
  /** Socket errors (they never stop the transport). Default: ignored. */
  readonly onError?: (error: Error) => void;
}

/** One outbound connection, to one peer, with its queue and reconnect state. */
interface Link {
  readonly to: NodeId;
  socket: Socket | undefined;
  connected: boolean;
  queue: Buffer[];
  queueBytes: number;
  backoffMs: number;
  retry: NodeJS.Timeout | undefined;
  corked: boolean;
}

/**
 * Listens for peers and returns the TCP transport. Each node dials one outbound connection per
 * peer it sends to (lazily, reconnecting with backoff) and reads frames from every inbound
 * connection with a stream decoder. A connection whose framing is lost (bad version, malformed or
 * oversized header) is closed after counting the error; the node keeps serving.
 *
 * Limitation: frames written to a connection that then breaks are lost (delivery is best effort,
 * as in the model); frames queued while a peer is unreachable are sent once it is back.
 */
export async function tcpTransport(options: TcpTransportOptions): Promise<NetTransport> {
  const fn = 'tcpTransport';
  requireInt(fn, 'self', options.self, 0, 0xffff_ffff);
  const codec = new FrameCodec(options);
  const peers = peerMap(fn, options.peers);
  const host = options.listen?.host ?? '127.0.0.1';
  const port = options.listen?.port ?? 0;
  requireInt(fn, 'port', port, 0, 65535);
  const queueBytesMax = options.queueBytesMax ?? 8 << 20;
  requireInt(fn, 'queueBytesMax', queueBytesMax, codec.frameBytesMax, Number.MAX_SAFE_INTEGER);
  const delayMin = options.reconnectDelayMsMin ?? 50;
  const delayMax = options.reconnectDelayMsMax ?? 2000;
  requireInt(fn, 'reconnectDelayMsMin', delayMin, 1, 2 ** 31 - 1);
  requireInt(fn, 'reconnectDelayMsMax', delayMax, delayMin, 2 ** 31 - 1);
  const connectionsMax = options.connectionsMax ?? 1024;
  requireInt(fn, 'connectionsMax', connectionsMax, 1, 1 << 20);
  const partialFrameTimeoutMs = options.partialFrameTimeoutMs ?? 10_000;
  requireInt(fn, 'partialFrameTimeoutMs', partialFrameTimeoutMs, 1, 2 ** 31 - 1);

  const transport = new TcpTransport(options, codec, peers, { queueBytesMax, delayMin, delayMax, partialFrameTimeoutMs });
  const server = options.tls
    ? createTlsServer(
        { key: options.tls.key, cert: options.tls.cert, ca: caList(options.tls), requestCert: true, rejectUnauthorized: true },
        (socket) => transport.accept(socket),
      )
    : createServer({ noDelay: true }, (socket) => transport.accept(socket));
  server.maxConnections = connectionsMax;
  server.on('error', (e) => options.onError?.(e));
  // A failed TLS handshake (garbage, wrong CA) only concerns that connection.
  server.on('tlsClientError', (e: Error) => options.onError?.(e));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  transport.attach(server);
  return transport;
}

interface Limits {
  readonly queueBytesMax: number;
  readonly delayMin: number;
  readonly delayMax: number;
  readonly partialFrameTimeoutMs: number;
}

class TcpTransport implements NetTransport {
  readonly self: NodeId;
  address: PeerAddress = { host: '', port: 0 };
  readonly #options: TcpTransportOptions;
  readonly #codec: FrameCodec;
  readonly #peers: Map<NodeId, PeerAddress>;
  readonly #limits: Limits;
  readonly #stats = emptyStats();
  readonly #handlers = new FrameHandlers();
  readonly #seq = new Map<NodeId, number>();
  readonly #links = new Map<NodeId, Link>();
  readonly #inbound = new Set<Socket>();
  #server: Server | undefined;
  #closed = false;

  constructor(options: TcpTransportOptions, codec: FrameCodec, peers: Map<NodeId, PeerAddress>, limits: Limits) {
    this.self = options.self;
    this.#options = options;
    this.#codec = codec;
    this.#peers = peers;
    this.#limits = limits;
  }

  attach(server: Server): void {
    this.#server = server;
    const bound = server.address();
    if (bound && typeof bound === 'object') this.address = { host: bound.address, port: bound.port };
  }

  get stats(): TransportStats {
    return copyStats(this.#stats);
  }

  get payloadBytesMax(): number {
    return this.#codec.payloadBytesMax;
  }

  setPeer(id: NodeId, address: PeerAddress): void {
    checkPeer('tcpTransport.setPeer', id, address);
    this.#peers.set(id, { host: address.host, port: address.port });
    // A changed address takes effect on the next connection.
    this.#links.get(id)?.socket?.destroy();
  }

  send(to: NodeId, kind: number, payload: Uint8Array): void {
    const fn = 'tcpTransport.send';
    if (this.#closed) throw new UsageError(fn, 'closed', 'the transport is closed');
    if (!this.#peers.has(to) && to !== this.self) throw new UsageError(fn, 'unknown-peer', `node ${to} is not in the peer table`);
    const seq = this.#seq.get(to) ?? 0;
    const frame = this.#codec.encode({ kind, from: this.self, to, seq }, payload);
    this.#seq.set(to, seq + 1);
    this.#stats.framesSent++;
    this.#stats.bytesSent += frame.length;
    const link = this.#link(to);
    if (link.connected && link.socket) {
      if (link.socket.writableLength + frame.length > this.#limits.queueBytesMax) {
        this.#stats.dropped['queue-full']++;
        return;
      }
      this.#write(link, frame);
      return;
    }
    if (link.queueBytes + frame.length > this.#limits.queueBytesMax) {
      this.#stats.dropped['queue-full']++;
      return;
    }
    link.queue.push(frame);
    link.queueBytes += frame.length;
    if (!link.socket && !link.retry) this.#connect(link);
  }

  onFrame(handler: FrameHandler): () => void {
    return this.#handlers.add(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links.values()) {
      if (link.retry) clearTimeout(link.retry);
      link.socket?.destroy();
      link.queue = [];
    }
    for (const socket of this.#inbound) socket.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves one inbound connection: decodes its frames until it ends or loses its framing. */
  accept(socket: Socket | TLSSocket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#inbound.add(socket);
    const decoder = new FrameStreamDecoder(this.#codec);
    const count = (results: ReturnType<FrameStreamDecoder['push']>): void => {
      for (const r of results) {
        if (r instanceof FrameError) this.#stats.dropped[r.code]++;
        else if (r.to !== this.self) this.#stats.dropped.misrouted++;
        else {
          this.#stats.framesReceived++;
          this.#stats.bytesReceived += r.payload.length + FRAME_OVERHEAD_BYTES;
          this.#handlers.emit(r);
        }
      }
    };
    // Armed while the decoder holds part of a frame; the frame's first bytes start the clock.
    let partialTimer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      count(decoder.push(chunk));
      // Framing lost: nothing after this point can be trusted to start a frame.
      if (decoder.failed) socket.destroy();
      else if (decoder.bufferedBytes === 0) {
        clearTimeout(partialTimer);
        partialTimer = undefined;
      } else {
        partialTimer ??= setTimeout(() => socket.destroy(), this.#limits.partialFrameTimeoutMs);
      }
    });
    socket.on('error', (e) => this.#options.onError?.(e));
    socket.on('close', () => {
      clearTimeout(partialTimer);
      this.#inbound.delete(socket);
      count(decoder.end());
    });
  }

  #link(to: NodeId): Link {
    let link = this.#links.get(to);
    if (!link) {
      link = { to, socket: undefined, connected: false, queue: [], queueBytes: 0, backoffMs: this.#limits.delayMin, retry: undefined, corked: false };
      this.#links.set(to, link);
    }
    return link;
  }

  #connect(link: Link): void {
    const peer = this.#peers.get(link.to) ?? this.address;
    const tls = this.#options.tls;
    const onReady = (): void => {
      link.connected = true;
      link.backoffMs = this.#limits.delayMin;
      const queued = link.queue;
      link.queue = [];
      link.queueBytes = 0;
      for (const frame of queued) this.#write(link, frame);
    };
    const socket: Socket = tls
      ? tlsConnect(
          {
            host: peer.host,
            port: peer.port,
            key: tls.key,
            cert: tls.cert,
            ca: caList(tls),
            ...(tls.servername ? { servername: tls.servername } : {}),
          },
          onReady,
        )
      : netConnect({ host: peer.host, port: peer.port, noDelay: true }, onReady);
    link.socket = socket;
    link.connected = false;
    socket.on('error', (e) => this.#options.onError?.(e));
    // Outbound connections carry frames one way; anything the peer sends back is ignored.
    socket.on('data', () => {});
    socket.on('close', () => {
      if (link.socket !== socket) return;
      link.socket = undefined;
      link.connected = false;
      link.corked = false;
      if (this.#closed) return;
      const delayMs = link.backoffMs;
      link.backoffMs = Math.min(link.backoffMs * 2, this.#limits.delayMax);
      link.retry = setTimeout(() => {
        link.retry = undefined;
        // Reconnect only when there is something to send; an idle link dials on its next send.
        if (!this.#closed && link.queue.length > 0) this.#connect(link);
      }, delayMs);
    });
  }

  #write(link: Link, frame: Buffer): void {
    const socket = link.socket!;
    if (!link.corked) {
      // Coalesce the frames of this turn into one write (writev).
      link.corked = true;
      socket.cork();
      this.#stats.packetsSent++;
      process.nextTick(() => {
        link.corked = false;
        socket.uncork();
      });
    }
    socket.write(frame);
  }
}

function caList(tls: TcpTlsOptions): (string | Buffer)[] {
  return Array.isArray(tls.ca) ? [...(tls.ca as readonly (string | Buffer)[])] : [tls.ca as string | Buffer];
}
