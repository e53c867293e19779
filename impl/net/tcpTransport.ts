import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, createSecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { FrameCodec, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TAG_BYTES, type Frame, type FrameCodecOptions, type NodeId } from './frame.ts';
import { FrameError } from './frameError.ts';
import { FrameStreamDecoder } from './frameStreamDecoder.ts';
import { checkPeer, peerMap, type NetTransport, type PeerAddress, type PeerTable } from './peers.ts';
import { FRESH_KIND, FreshAnswers, ReplayGuard, SeqClock, type ReplayGuardOptions } from './replayGuard.ts';
import { FrameHandlers, copyStats, emptyStats, type FrameHandler, type TransportStats } from './transport.ts';
import { UsageError, requireInt } from './usageError.ts';

/** The channel byte of a connection's hello frame (transport-internal: never handed to the runtime). */
export const HELLO_KIND = 0xfe;
/** The largest hello an inbound connection may send: what an unauthenticated peer can make a node buffer. */
export const HELLO_BYTES_MAX = FRAME_OVERHEAD_BYTES + 16;

/** The hello a connection opens with: an authenticated, fresh, empty frame from `from` to `to`. */
export function encodeHello(codec: FrameCodec, from: NodeId, to: NodeId, seq: number): Buffer {
  return codec.encode({ kind: HELLO_KIND, from, to, seq }, new Uint8Array(0));
}

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
export interface TcpTransportOptions extends FrameCodecOptions, ReplayGuardOptions {
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
  /** Most simultaneous authenticated inbound connections. Default 1024. */
  readonly connectionsMax?: number;
  /**
   * Most inbound connections held before they authenticate (TLS handshake and hello); one more
   * evicts the oldest, so strangers holding connections cannot lock peers out. Default 128.
   */
  readonly pendingConnectionsMax?: number;
  /** An inbound connection that has not authenticated (handshake and hello) within this is closed. Default 2000 ms. */
  readonly helloTimeoutMs?: number;
  /** Drop replayed frames and hellos (default true; see replayGuard.ts). */
  readonly replayProtection?: boolean;
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
 * Strangers: every connection opens with a hello — an empty frame of kind {@link HELLO_KIND},
 * authenticated with the cluster key and fresh (the replay window) — after the TLS handshake when
 * TLS is on. Until it has checked one, the node reads at most {@link HELLO_BYTES_MAX} bytes from the
 * connection, holds it at most `helloTimeoutMs`, and holds at most `pendingConnectionsMax` such
 * connections (a new one evicts the oldest); authenticated connections are counted apart
 * (`connectionsMax`), so idle strangers cannot take the peers' places.
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
  const pendingConnectionsMax = options.pendingConnectionsMax ?? 128;
  requireInt(fn, 'pendingConnectionsMax', pendingConnectionsMax, 1, 1 << 20);
  const helloTimeoutMs = options.helloTimeoutMs ?? 2000;
  requireInt(fn, 'helloTimeoutMs', helloTimeoutMs, 1, 2 ** 31 - 1);
  const partialFrameTimeoutMs = options.partialFrameTimeoutMs ?? 10_000;
  requireInt(fn, 'partialFrameTimeoutMs', partialFrameTimeoutMs, 1, 2 ** 31 - 1);
  if (options.tls) {
    try {
      createSecureContext({ key: options.tls.key, cert: options.tls.cert, ca: caList(options.tls) });
    } catch (e) {
      throw new UsageError(fn, 'bad-tls', `the TLS key, certificate or CA cannot be used: ${(e as Error).message}`);
    }
  }
  // With TLS, a tls.Server that never listens does the handshakes (it alone refuses a client
  // certificate that does not verify); the listening net.Server admits connections first.
  const tlsServer = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert, ca: caList(options.tls), requestCert: true, rejectUnauthorized: true, handshakeTimeout: helloTimeoutMs })
    : undefined;
  const transport = new TcpTransport(options, codec, peers, {
    queueBytesMax, delayMin, delayMax, partialFrameTimeoutMs, connectionsMax, pendingConnectionsMax, helloTimeoutMs,
  });
  const server = createServer({ noDelay: true }, (socket) => {
    if (!transport.admit(socket)) return;
    if (tlsServer) tlsServer.emit('connection', socket);
    else transport.serve(socket, socket);
  });
  if (tlsServer) {
    tlsServer.on('secureConnection', (tls: TLSSocket) => transport.serveTls(tls));
    // A failed handshake (plaintext, another CA, garbage) concerns that connection only.
    tlsServer.on('tlsClientError', (e: Error) => options.onError?.(e));
  }
  server.on('error', (e) => options.onError?.(e));
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
  readonly connectionsMax: number;
  readonly pendingConnectionsMax: number;
  readonly helloTimeoutMs: number;
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
  readonly #seq: SeqClock;
  readonly #guard: ReplayGuard | undefined;
  readonly #fresh: FreshAnswers;
  readonly #links = new Map<NodeId, Link>();
  readonly #inbound = new Set<Socket>();
  /** Inbound connections not yet authenticated, oldest first, with how to drop each. */
  readonly #pending = new Map<Socket, () => void>();
  /** Their hello timers. */
  readonly #admitted = new Map<Socket, NodeJS.Timeout>();
  /** Admitted connections by remote address, to find a TLS connection's raw socket. */
  readonly #byAddress = new Map<string, Socket>();
  #server: Server | undefined;
  #closed = false;

  constructor(options: TcpTransportOptions, codec: FrameCodec, peers: Map<NodeId, PeerAddress>, limits: Limits) {
    this.self = options.self;
    this.#options = options;
    this.#codec = codec;
    this.#peers = peers;
    this.#limits = limits;
    this.#seq = new SeqClock(options.nowMs);
    this.#guard = options.replayProtection === false ? undefined : new ReplayGuard(options);
    this.#fresh = new FreshAnswers(options.nowMs);
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
    const frame = this.#codec.encode({ kind, from: this.self, to, seq: this.#seq.next(to) }, payload);
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
    for (const drop of [...this.#pending.values()]) drop();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Takes in a new inbound connection, unauthenticated: evicts the oldest unauthenticated one if
   * there are too many, and gives it `helloTimeoutMs` to authenticate. False if refused.
   */
  admit(raw: Socket): boolean {
    if (this.#closed) {
      raw.destroy();
      return false;
    }
    if (this.#pending.size >= this.#limits.pendingConnectionsMax) this.#pending.values().next().value?.();
    raw.on('error', (e) => this.#options.onError?.(e));
    const timer = setTimeout(() => this.#reject(raw), this.#limits.helloTimeoutMs);
    this.#pending.set(raw, () => this.#reject(raw));
    this.#admitted.set(raw, timer);
    this.#byAddress.set(addressKey(raw), raw);
    raw.once('close', () => {
      this.#byAddress.delete(addressKey(raw));
      if (this.#pending.has(raw)) this.#reject(raw); // gave up, or failed its TLS handshake
    });
    return true;
  }

  /** A connection whose TLS handshake verified its certificate: on to its hello. */
  serveTls(tls: TLSSocket): void {
    const raw = this.#byAddress.get(addressKey(tls));
    if (!raw || !this.#pending.has(raw)) {
      tls.destroy();
      return;
    }
    tls.on('error', (e) => this.#options.onError?.(e));
    this.serve(tls, raw);
  }

  /** Closes a connection that did not authenticate, counting it. */
  #reject(raw: Socket): void {
    if (!this.#pending.has(raw)) return;
    this.#pending.delete(raw);
    clearTimeout(this.#admitted.get(raw));
    this.#admitted.delete(raw);
    this.#stats.dropped['no-hello']++;
    raw.destroy();
  }

  /** Serves an admitted connection (`socket` is `raw`, or its TLS layer): its hello, then its frames. */
  serve(socket: Socket, raw: Socket): void {
    const limits = this.#limits;
    let authenticated = false;
    let held: Buffer = Buffer.alloc(0);
    const reject = (): void => this.#reject(raw);

    const decoder = new FrameStreamDecoder(this.#codec);
    const count = (results: ReturnType<FrameStreamDecoder['push']>): void => {
      for (const r of results) {
        if (r instanceof FrameError) this.#stats.dropped[r.code]++;
        else this.#deliver(r);
      }
    };
    // Armed while the decoder holds part of a frame; the frame's first bytes start the clock.
    let partialTimer: NodeJS.Timeout | undefined;
    const onFrames = (chunk: Buffer): void => {
      count(decoder.push(chunk));
      // Framing lost: nothing after this point can be trusted to start a frame.
      if (decoder.failed) socket.destroy();
      else if (decoder.bufferedBytes === 0) {
        clearTimeout(partialTimer);
        partialTimer = undefined;
      } else {
        partialTimer ??= setTimeout(() => socket.destroy(), limits.partialFrameTimeoutMs);
      }
    };
    /** The hello: at most HELLO_BYTES_MAX bytes are held until it checks out. */
    const onHello = (chunk: Buffer): void => {
      if (!this.#pending.has(raw)) return;
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      if (held.length < FRAME_HEADER_BYTES) return;
      const header = this.#codec.parseHeader(held, 0);
      if (header instanceof FrameError || header.kind !== HELLO_KIND || header.frameBytes > HELLO_BYTES_MAX) return reject();
      if (held.length < header.frameBytes) return;
      const hello = this.#codec.finish(held, 0, header);
      if (hello instanceof FrameError || hello.to !== this.self) return reject();
      if (this.#guard?.stale(hello.seq)) {
        this.#stats.dropped.stale++;
        this.#answerStale(hello.from);
        return reject();
      }
      if (this.#guard && !this.#guard.accept(hello.from, hello.seq)) {
        this.#stats.dropped.replayed++;
        return reject();
      }
      this.#seq.observe(hello.from, hello.seq);
      if (this.#inbound.size >= limits.connectionsMax) return reject();
      authenticated = true;
      this.#pending.delete(raw);
      clearTimeout(this.#admitted.get(raw));
      this.#admitted.delete(raw);
      this.#inbound.add(socket);
      const rest = held.subarray(header.frameBytes);
      held = Buffer.alloc(0);
      if (rest.length > 0) onFrames(rest);
    };
    socket.on('data', (chunk: Buffer) => (authenticated ? onFrames(chunk) : onHello(chunk)));
    socket.on('close', () => {
      clearTimeout(partialTimer);
      this.#inbound.delete(socket);
      if (authenticated) count(decoder.end());
      else reject();
      raw.destroy();
    });
  }

  /** An authentic frame from a connection: misrouted, stale, replayed, a stray hello or clock reading, or delivered. */
  #deliver(r: Frame): void {
    if (r.to !== this.self) this.#stats.dropped.misrouted++;
    else if (this.#guard?.stale(r.seq)) {
      this.#stats.dropped.stale++;
      this.#answerStale(r.from);
    } else if (this.#guard && !this.#guard.accept(r.from, r.seq)) this.#stats.dropped.replayed++;
    else if (r.kind === HELLO_KIND || r.kind === FRESH_KIND) this.#seq.observe(r.from, r.seq);
    else {
      this.#seq.observe(r.from, r.seq);
      this.#stats.framesReceived++;
      this.#stats.bytesReceived += r.payload.length + FRAME_OVERHEAD_BYTES;
      this.#handlers.emit(r);
    }
  }

  /** Tells a peer whose frame was stale this node's clock (an empty {@link FRESH_KIND} frame). */
  #answerStale(peer: NodeId): void {
    if ((this.#peers.has(peer) || peer === this.self) && !this.#closed && this.#fresh.due(peer)) this.send(peer, FRESH_KIND, new Uint8Array(0));
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
      // The hello goes first: the peer reads nothing else until it has checked it.
      this.#write(link, encodeHello(this.#codec, this.self, link.to, this.#seq.next(link.to)));
      // Queued frames are stamped again: the peer may have restarted since, and would take frames
      // stamped before its start for replays (stale).
      for (const frame of queued) {
        const payload = frame.subarray(FRAME_HEADER_BYTES, frame.length - FRAME_TAG_BYTES);
        this.#write(link, this.#codec.encode({ kind: frame[1]!, from: this.self, to: link.to, seq: this.#seq.next(link.to) }, payload));
      }
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

function addressKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

function caList(tls: TcpTlsOptions): (string | Buffer)[] {
  return Array.isArray(tls.ca) ? [...(tls.ca as readonly (string | Buffer)[])] : [tls.ca as string | Buffer];
}
