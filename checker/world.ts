/**
 * The world: a protocol's nodes plus a modeled network, crash flags and a discrete clock, as
 * one packed, canonical state. It enumerates the events enabled in a state (deliver, drop,
 * duplicate, local action, crash, restart, tick) and the successor each one leads to, calling
 * the spec's own handlers.
 *
 * Packed layout (all varints unless noted):
 *   time, crashes used, per-node clock offsets (zigzag; only when clockError > 0),
 *   per node: crashed (u8), length, state bytes,
 *   envelope count, per envelope: length, [from, to, channel (u8), payload bytes], count (bag only),
 *   and, when the protocol has clients, the history (invocations and returns, in order).
 * Envelopes are sorted by their bytes (set, bag) or grouped by link in send order (fifo), so
 * equal worlds give equal bytes. Channels: 0 protocol message, 1 client request, 2 reply.
 *
 * Clients are built-in nodes of role `client` (after the protocol's roles): each issues up to
 * `opsPerClient` operations, one at a time, to any node of the target role; the request and the
 * reply travel through the same modeled network, and the history records each invocation and
 * return in order, which is the real-time order history checkers need.
 */
import { finishSum, hash64 } from './fingerprint.ts';
import {
  type AnyRole, type Ctx, type Interval, type NodeId, type Out, type Params, type SpecProperty, type Protocol,
  type RequestRef, type Schema, CHANNEL, DecodeError, Reader, SpecError, Writer, makeCtx, nodeName,
  roleCount, t,
} from '../specs/core/index.ts';

export type NetworkMode = 'set' | 'bag' | 'fifo';

/** The world's fault and clock model (normalized; see options.ts for the user-facing form). */
export interface WorldOptions {
  network: NetworkMode;
  /** Messages may be lost (bag, fifo). */
  drop: boolean;
  /** Messages may be delivered and still stay in flight (bag, fifo). */
  dup: boolean;
  /** How many crashes a run may have in all. */
  crashes: number;
  /** True time advances by tick events up to this bound (0: no clock). */
  maxTime: number;
  /** TrueTime's ε: `out.trueTime()` returns [now - ε, now + ε] around the node's reading. */
  trueTimeEpsilon: number;
  /**
   * How far a node's clock may be from true time: each node's offset drifts by ±1 per `drift`
   * event within [-clockError, clockError]. Beyond `trueTimeEpsilon` it is the fault that breaks
   * commit-wait; beyond a lease's safety margin it breaks lease reads.
   */
  clockError: number;
  /** A state constraint: successors with more messages in flight are not explored. */
  maxInFlight: number;
}

export const defaultWorldOptions: WorldOptions = {
  network: 'set',
  drop: false,
  dup: false,
  crashes: 0,
  maxTime: 0,
  trueTimeEpsilon: 0,
  clockError: 0,
  maxInFlight: Number.POSITIVE_INFINITY,
};

/**
 * One message in flight. `bytes` is its canonical envelope encoding. Envelopes are interned
 * (equal bytes and count give the same object), so they carry their decoded payload and
 * component hash once for all the worlds they appear in.
 */
export interface Envelope {
  readonly bytes: Uint8Array;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly channel: number;
  /** Copies in flight (bag); 1 otherwise. */
  readonly count: number;
  /** The envelope's component hash (bytes and count), for incremental fingerprints. */
  readonly hHi: number;
  readonly hLo: number;
  /** The decoded payload, once asked for. */
  payload: unknown;
  /** What delivering this envelope did, by receiver state (set and bag networks; handlers are pure). */
  outcomes: Map<unknown, Outcome> | null;
  /** The receiver state last looked up in `outcomes`, and its outcome (consecutive worlds share it). */
  lastState: unknown;
  lastOutcome: Outcome | null;
}

/**
 * What one handler call did to its node: the state it returned and the messages it sent. A
 * handler is a pure function of (node, state, event) unless it reads the clock, so outcomes
 * are remembered and a successor's fingerprint is computed from its parent's without running
 * the handler, packing or allocating anything.
 */
export interface Outcome {
  readonly after: unknown;
  /** `after !== state`: the node moved (identity, as the checker has always compared). */
  readonly changed: boolean;
  /** The component hash of `after` at this node (not crashed), and its packed bytes, when changed. */
  readonly hHi: number;
  readonly hLo: number;
  readonly bytes: Uint8Array | null;
  /** Envelopes sent, in order, each once (interned, one copy each): what the set network adds. */
  readonly sends: readonly Envelope[];
  /** Every envelope sent, in order, repeats included: what the bag network adds. */
  readonly all: readonly Envelope[];
}

/** An outcome with no effect at all: the event is enabled but the world stays as it was. */
const QUIET: Outcome = { after: undefined, changed: false, hHi: 0, hLo: 0, bytes: null, sends: [], all: [] };

/** One enabled local action of a node in a given state, with its outcome (null: not remembered). */
interface ActionEvent {
  readonly name: string;
  readonly arg: unknown;
  readonly action: RoleInfo['actions'][number][1];
  readonly outcome: Outcome | null;
}

/**
 * Asked with a successor's fingerprint before the successor is built: true when it is already
 * visited, so the successor is skipped (the caller counts it as generated).
 */
export type SeenTest = (hi: number, lo: number) => boolean;

/** One entry of a client history: an invocation or a return, in the order they happened. */
export type HistoryEvent =
  | { readonly kind: 'invoke'; readonly client: NodeId; readonly id: number; readonly op: unknown }
  | { readonly kind: 'return'; readonly client: NodeId; readonly id: number; readonly result: unknown };

/** A world state, decoded. Node states are the spec's own values. */
export interface WorldState {
  time: number;
  crashes: number;
  crashed: Uint8Array;
  /** Per-node clock offset from true time (all zero unless the world models clock error). */
  offsets: Int8Array;
  nodes: unknown[];
  /**
   * Node i's packed state when known: `UNCHANGED` while node i (state and crash flag) is as
   * decoded from `src` (whose section packing then copies), else the state's bytes, or null
   * when the state must be encoded.
   */
  nodeBytes: (Uint8Array | null)[];
  net: Envelope[];
  /** The packed world this one was derived from, and where each node's section starts in it. */
  src: Uint8Array | null;
  nodeAt: Int32Array | null;
  /** Component hashes of the nodes of `src` (valid where `nodeBytes[i]` is not null), and their sum. */
  nodeHi: Int32Array | null;
  nodeLo: Int32Array | null;
  nodeSumHi: number;
  nodeSumLo: number;
  /** The network as decoded from `src`, where its section lies there, and its hash sum. */
  netBase: Envelope[] | null;
  netAt: number;
  netEnd: number;
  netSumHi: number;
  netSumLo: number;
  /** The client history (empty when the protocol has no clients). */
  history: readonly HistoryEvent[];
}

/** A client node's own state. */
interface ClientState {
  readonly next: number;
  readonly pending: { readonly id: number; readonly op: unknown } | null;
}

/** The clients of a protocol, as the world runs them. */
interface ClientsInfo {
  role: RoleInfo;
  target: RoleInfo;
  ops: readonly unknown[];
  opsPerClient: number;
  request: Schema<{ readonly id: number; readonly op: unknown }>;
  reply: Schema<{ readonly id: number; readonly result: unknown }>;
  history: Schema<readonly HistoryEvent[]>;
}

const CHANNEL_MESSAGE = CHANNEL.message;
const CHANNEL_REQUEST = CHANNEL.request;
const CHANNEL_REPLY = CHANNEL.reply;

/** What an enabled event is, in a reusable form (no allocation per successor). */
export interface EventRef {
  kind: 'deliver' | 'duplicate' | 'drop' | 'action' | 'crash' | 'restart' | 'tick' | 'invoke' | 'drift';
  node: NodeId;
  /** Envelope index (deliver, duplicate, drop) in the parent's network. */
  envelope: number;
  /** Action name and argument (action). */
  action: string;
  arg: unknown;
}

/** An event as it appears in traces: plain JSON (defined with the trace format). */
export type { TraceEvent, WorldJSON } from '../traces/format.ts';
import type { TraceEvent, WorldJSON } from '../traces/format.ts';

interface RoleInfo {
  name: string;
  def: AnyRole;
  count: number;
  base: NodeId;
  symmetric: boolean;
  actions: [string, AnyRole['actions'] extends Record<string, infer A> | undefined ? A : never][];
  /** Field names that survive a crash; `true` when the whole state does. */
  durable: readonly string[] | true;
  /** Decoded states of this role by their packed bytes. */
  decoded: BytesCache<unknown>;
}

/** A handler threw: the spec is wrong. Carries where, so the checker can report a trace. */
export class HandlerError extends Error {
  override readonly name = 'HandlerError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** A spec's world under fixed params and options. */
export class World {
  readonly roles: RoleInfo[] = [];
  readonly nodeCount: number;
  readonly roleOfNode: RoleInfo[] = [];
  readonly ctxs: Ctx[] = [];
  readonly params: Params;
  readonly properties: readonly SpecProperty[];
  private readonly writer = new Writer(1024);
  private readonly envWriter = new Writer(256);
  private readonly nodeReader = new Reader(new Uint8Array(0));
  private readonly worldReader = new Reader(new Uint8Array(0));
  private readonly lanes = new Int32Array(2);
  private readonly scratch = new Writer(256);
  private readonly interned: (Envelope | undefined)[] = new Array(INTERN_SIZE);
  /** How many outcomes are remembered (on envelopes and in `actionMemo`). */
  private memoCount = 0;
  /** Networks after sends, by network and the sends' array (see `withSends`). */
  private readonly sendsMemo = new Map<Envelope[], Map<readonly Envelope[], Envelope[]>>();
  /** Per node: its enabled actions and their outcomes, by node state. */
  private readonly actionMemo: Map<unknown, ActionEvent[]>[] = [];
  /** Per node: the state last looked up in `actionMemo`, and its events. */
  private readonly lastActionState: unknown[] = [];
  private readonly lastActionEvents: (ActionEvent[] | null)[] = [];
  /** The fingerprint of the parent being expanded, summed but not finished (fast path). */
  private parentHi = 0;
  private parentLo = 0;
  private historyHi = 0;
  private historyLo = 0;
  private parentInFlight = 0;
  /** The successor last built by the fast path, and its fingerprint (reused by fingerprintInto). */
  private fastState: WorldState | null = null;
  private readonly fastFp = new Uint32Array(2);
  /** `skip` computed the fingerprint of the successor about to be built. */
  private fastPending = false;
  /** Records `skipBag` changed (bytes, new count, bytes, new count, ...) and the net sum's change. */
  private readonly touched: (Uint8Array | number)[] = [];
  private recountHi = 0;
  private recountLo = 0;
  private readonly netCache = new BytesCache<NetEntry>(1 << 14);
  private readonly netReader = new Reader(new Uint8Array(0));
  /** Whether the handler being run read the clock (then its outcome is not remembered). */
  private clockRead = false;
  /** The sections of the world decoded last, with what they decoded to (see `decode`). */
  private lastDecoded!: LastDecoded;
  /** Arrays reused by `decode(buf, true)`: the exhaustive loop's parent dies with its expansion. */
  private decodeScratch!: {
    offsets: Int8Array; crashed: Uint8Array; nodes: unknown[]; nodeBytes: (Uint8Array | null)[];
    nodeAt: Int32Array; nodeHi: Int32Array; nodeLo: Int32Array;
  };
  /** While spec code runs: which node and which handler (for error messages). */
  private inSpec = false;
  private what = '';
  private readonly envReader = new Reader(new Uint8Array(0));
  private readonly msgReader = new Reader(new Uint8Array(0));
  /** Effects of the handler being run: sends (parallel arrays, reused; `sendCount` valid). */
  private readonly sendTo: NodeId[] = [];
  private readonly sendMsg: unknown[] = [];
  private sendCount = 0;
  private readonly replies: { client: NodeId; id: number; result: unknown }[] = [];
  private replyCount = 0;
  /** The request being handled by `onRequest` (the default target of `out.reply`). */
  private currentRequest: RequestRef | null = null;
  readonly clients: ClientsInfo | null = null;
  private readonly out: Out<unknown>;
  private current: NodeId = 0;
  private currentTime = 0;
  private currentOffsets: Int8Array = new Int8Array(0);
  readonly event: EventRef = { kind: 'tick', node: 0, envelope: 0, action: '', arg: undefined };

  constructor(
    readonly protocol: Protocol,
    params: Params,
    readonly options: WorldOptions,
  ) {
    this.params = params;
    let base = 0;
    for (const [name, def] of Object.entries(protocol.roles)) {
      const count = roleCount(name, def.count, params);
      const durable = (def.durable as unknown) === true ? true : ((def.durable ?? []) as readonly string[]);
      const info: RoleInfo = {
        name, def, count, base, symmetric: Boolean(def.symmetric),
        actions: Object.entries(def.actions ?? {}) as RoleInfo['actions'],
        durable,
        decoded: new BytesCache(1 << 12),
      };
      this.roles.push(info);
      for (let i = 0; i < count; i++) this.roleOfNode.push(info);
      base += count;
    }
    const cdef = protocol.clients;
    if (cdef) {
      const count = roleCount('client', cdef.count, params);
      const opsPerClient = typeof cdef.opsPerClient === 'function' ? cdef.opsPerClient(params) : cdef.opsPerClient;
      const state = t.struct({ next: t.u32, pending: t.option(t.struct({ id: t.u32, op: cdef.op })) });
      const role: RoleInfo = {
        name: 'client', count, base, symmetric: false, actions: [], durable: true,
        def: { count, state, init: (): ClientState => ({ next: 0, pending: null }) },
        decoded: new BytesCache(1 << 12),
      };
      this.roles.push(role);
      for (let i = 0; i < count; i++) this.roleOfNode.push(role);
      base += count;
      this.clients = {
        role,
        target: this.roles.find((r) => r.name === cdef.target)!,
        ops: cdef.ops(params),
        opsPerClient,
        request: t.struct({ id: t.u32, op: cdef.op }),
        reply: t.struct({ id: t.u32, result: cdef.result }),
        history: t.array(t.union('kind', {
          invoke: { client: t.node('client'), id: t.u32, op: cdef.op },
          return: { client: t.node('client'), id: t.u32, result: cdef.result },
        })) as Schema<readonly HistoryEvent[]>,
      };
    }
    this.nodeCount = base;
    for (let id = 0; id < this.nodeCount; id++) {
      this.ctxs.push(this.makeCtx(id));
      this.actionMemo.push(new Map());
      this.lastActionState.push(undefined);
      this.lastActionEvents.push(null);
    }
    this.lastDecoded = new LastDecoded(base);
    this.decodeScratch = {
      offsets: new Int8Array(base), crashed: new Uint8Array(base), nodes: new Array(base), nodeBytes: new Array(base),
      nodeAt: new Int32Array(base + 1), nodeHi: new Int32Array(base), nodeLo: new Int32Array(base),
    };
    this.properties = protocol.properties ? protocol.properties(params as never) : [];
    const world = this;
    this.out = {
      send(to, msg) {
        if (!Number.isInteger(to) || to < 0 || to >= world.nodeCount) {
          throw new SpecError('out.send', `node ${world.nodeName(world.current)} sent to ${String(to)}, which is not a node id`);
        }
        if (world.clients && world.roleOfNode[to] === world.clients.role) {
          throw new SpecError('out.send', `node ${world.nodeName(world.current)} sent a protocol message to client ${world.nodeName(to)}; answer clients with out.reply`);
        }
        world.sendTo[world.sendCount] = to;
        world.sendMsg[world.sendCount++] = msg;
      },
      broadcast(role, msg) {
        const r = world.roles.find((x) => x.name === role);
        if (!r) throw new SpecError('out.broadcast', `no role '${role}'`);
        for (let i = 0; i < r.count; i++) {
          if (r.base + i === world.current) continue;
          world.sendTo[world.sendCount] = r.base + i;
          world.sendMsg[world.sendCount++] = msg;
        }
      },
      reply(result, to) {
        if (!world.clients) throw new SpecError('out.reply', 'this protocol declares no clients, so there is no request to reply to');
        const ref = to ?? world.currentRequest;
        if (!ref) throw new SpecError('out.reply', `node ${world.nodeName(world.current)} replied outside onRequest without saying to which request (pass the request's { client, id })`);
        if (world.roleOfNode[ref.client] !== world.clients.role) throw new SpecError('out.reply', `${String(ref.client)} is not a client`);
        world.replies[world.replyCount++] = { client: ref.client, id: ref.id, result };
      },
      now: () => {
        world.clockRead = true;
        return world.currentTime + world.currentOffsets[world.current]!;
      },
      trueTime: (): Interval => {
        world.clockRead = true;
        const now = world.currentTime + world.currentOffsets[world.current]!;
        return { earliest: now - world.options.trueTimeEpsilon, latest: now + world.options.trueTimeEpsilon };
      },
    };
  }

  private makeCtx(id: NodeId): Ctx {
    return makeCtx(this.roles, this.roleOfNode, id, this.params);
  }

  /** A readable node name: the role, with a 1-based index when the role has several nodes. */
  nodeName(id: NodeId): string {
    return nodeName(this.roleOfNode[id], id);
  }

  /** The initial world (protocols here have one: `init` is deterministic). */
  initial(): WorldState {
    const nodes: unknown[] = [];
    for (let id = 0; id < this.nodeCount; id++) {
      nodes.push(this.call(id, () => this.roleOfNode[id]!.def.init(this.ctxs[id]!), 'init'));
    }
    return {
      time: 0,
      crashes: 0,
      crashed: new Uint8Array(this.nodeCount),
      offsets: new Int8Array(this.nodeCount),
      nodes,
      nodeBytes: new Array(this.nodeCount).fill(null),
      net: [],
      history: [],
      ...NO_SOURCE,
    };
  }

  // ---------------------------------------------------------------- encoding

  /** Packs a world into the shared writer; returns a view valid until the next encode. */
  encode(s: WorldState): Uint8Array {
    return this.writer.buf.subarray(0, this.encodeInto(s));
  }

  /**
   * Packs a world into the shared writer (`packedBuffer`) and returns its length. Unchanged
   * node sections and envelope records are copied from the packed world they were decoded
   * from, in runs, so a successor that changed one node costs a few memory copies.
   */
  encodeInto(s: WorldState): number {
    const w = this.writer.reset();
    w.varint(s.time);
    w.varint(s.crashes);
    if (this.options.clockError > 0) for (let id = 0; id < this.nodeCount; id++) w.u8(s.offsets[id]! & 0xff);
    const src = s.src;
    const at = s.nodeAt;
    let runFrom = 0;
    let runTo = -1;
    for (let id = 0; id < this.nodeCount; id++) {
      const cached = s.nodeBytes[id];
      if (cached === UNCHANGED) {
        const a = at![id]!;
        if (a === runTo) {
          runTo = at![id + 1]!;
        } else {
          if (runTo >= 0) w.range(src!, runFrom, runTo - runFrom);
          runFrom = a;
          runTo = at![id + 1]!;
        }
        continue;
      }
      if (runTo >= 0) {
        w.range(src!, runFrom, runTo - runFrom);
        runTo = -1;
      }
      w.u8(s.crashed[id]!);
      if (cached !== null) {
        w.varint(cached.length);
        w.bytes(cached);
      } else {
        this.encodeNodeFramed(w, id, s.nodes[id]);
      }
    }
    if (runTo >= 0) w.range(src!, runFrom, runTo - runFrom);
    if (src !== null && s.net === s.netBase) w.range(src, s.netAt, s.netEnd - s.netAt);
    else this.encodeNet(w, s.net);
    if (this.clients) this.clients.history.encode(w, s.history, 'history');
    return w.pos;
  }

  /** The writer's buffer after {@link encodeInto} (valid until the next encode). */
  get packedBuffer(): Uint8Array {
    return this.writer.buf;
  }

  /** Encodes node `id`'s state (no framing); a state that does not fit is the spec's error. */
  encodeNodeState(w: Writer, id: NodeId, state: unknown): void {
    try {
      this.roleOfNode[id]!.def.state.encode(w, state, `${this.nodeName(id)}.state`);
    } catch (e) {
      throw new HandlerError(`node ${this.nodeName(id)} has a state that does not fit its schema: ${(e as Error).message}`, e);
    }
  }

  /** Encodes node `id`'s state with a length prefix (written after the fact: state sizes vary). */
  encodeNodeFramed(w: Writer, id: NodeId, state: unknown): void {
    // Reserve one length byte; move the body when the length needs more.
    const lenAt = w.pos;
    w.u8(0);
    const start = w.pos;
    this.encodeNodeState(w, id, state);
    const len = w.pos - start;
    if (len < 0x80) {
      w.buf[lenAt] = len;
    } else {
      const body = w.buf.slice(start, w.pos);
      w.pos = lenAt;
      w.varint(len);
      w.bytes(body);
    }
  }

  encodeNet(w: Writer, net: Envelope[]): void {
    w.varint(net.length);
    const bag = this.options.network === 'bag';
    for (let i = 0; i < net.length; i++) {
      const e = net[i]!;
      w.varint(e.bytes.length);
      w.bytes(e.bytes);
      if (bag) w.varint(e.count);
    }
  }

  /**
   * Unpacks a world. Node and envelope bytes are views into `buf`, which successors re-use when
   * packed, so `buf` must stay unchanged while the world and its successors are in use.
   * Decoded node states and messages come from a cache keyed by their bytes (they are
   * immutable values, so sharing them between worlds is safe).
   */
  decode(buf: Uint8Array, scratch = false): WorldState {
    const n = this.nodeCount;
    const r = this.worldReader.reset(buf);
    const time = r.varint();
    const crashes = r.varint();
    const sc = this.decodeScratch;
    const offsets = scratch ? sc.offsets : new Int8Array(n);
    if (this.options.clockError > 0) for (let id = 0; id < n; id++) offsets[id] = (r.u8() << 24) >> 24;
    const crashed = scratch ? sc.crashed : new Uint8Array(n);
    const nodes = scratch ? sc.nodes : new Array<unknown>(n);
    const nodeBytes = scratch ? sc.nodeBytes : new Array<Uint8Array | null>(n);
    const nodeAt = scratch ? sc.nodeAt : new Int32Array(n + 1);
    const nodeHi = scratch ? sc.nodeHi : new Int32Array(n);
    const nodeLo = scratch ? sc.nodeLo : new Int32Array(n);
    const h = this.lanes;
    const last = this.lastDecoded;
    const end = buf.length;
    let nodeSumHi = 0;
    let nodeSumLo = 0;
    // Lengths under 128 (one varint byte) are read inline; the Reader takes the rest and errors.
    let p = r.pos;
    for (let id = 0; id < n; id++) {
      nodeAt[id] = p;
      let len = p + 1 < end ? buf[p + 1]! : 0x80;
      let start = p + 2;
      if (len >= 0x80 || start + len > end) {
        r.pos = p + 1;
        len = r.length();
        start = r.pos;
      }
      const flag = buf[p]!;
      p = start + len;
      crashed[id] = flag;
      nodeBytes[id] = UNCHANGED;
      // Worlds decoded one after another share most node states: compare with the last first.
      if (last.crashed[id] === flag && last.same(id, buf, start, len)) {
        const hi = last.hi[id]!;
        const lo = last.lo[id]!;
        nodeHi[id] = hi;
        nodeLo[id] = lo;
        nodeSumHi = (nodeSumHi + hi) | 0;
        nodeSumLo = (nodeSumLo + lo) | 0;
        nodes[id] = last.values[id];
        continue;
      }
      hash(buf, start, len, nodeSeed(id, flag), h);
      const hi = h[0]!;
      const lo = h[1]!;
      nodeHi[id] = hi;
      nodeLo[id] = lo;
      nodeSumHi = (nodeSumHi + hi) | 0;
      nodeSumLo = (nodeSumLo + lo) | 0;
      const value = this.nodeState(id, buf, start, len, hi ^ lo);
      nodes[id] = value;
      last.remember(id, buf, start, len);
      last.crashed[id] = flag;
      last.hi[id] = hi;
      last.lo[id] = lo;
      last.values[id] = value;
    }
    nodeAt[n] = p;
    // The network section as a whole: networks repeat across many worlds, so the decoded
    // envelope list and its hash sum come from a cache keyed by the section's bytes.
    const netAt = p;
    r.pos = p;
    const count = r.length();
    p = r.pos;
    const bag = this.options.network === 'bag';
    for (let i = 0; i < count; i++) {
      const len = p < end ? buf[p]! : 0x80;
      if (len < 0x80 && p + 1 + len <= end) {
        p += 1 + len;
      } else {
        r.pos = p;
        p = r.length();
        p += r.pos;
      }
      if (bag) {
        r.pos = p;
        r.varint();
        p = r.pos;
      }
    }
    r.pos = p;
    const netEnd = p;
    let entry: NetEntry;
    if (last.same(n, buf, netAt, netEnd - netAt)) {
      entry = last.net!;
    } else {
      const netHash = this.netCache.hashOf(buf, netAt, netEnd - netAt);
      entry = this.netCache.get(buf, netAt, netEnd - netAt, netHash) ?? this.decodeNet(buf, netAt, netEnd, netHash);
      last.remember(n, buf, netAt, netEnd - netAt);
      last.net = entry;
    }
    const history = this.clients ? this.clients.history.decode(r) : NO_HISTORY;
    return {
      time, crashes, crashed, offsets, nodes, nodeBytes, net: entry.net, history, src: buf, nodeAt, nodeHi, nodeLo, nodeSumHi, nodeSumLo,
      netBase: entry.net, netAt, netEnd, netSumHi: entry.hi, netSumLo: entry.lo,
    };
  }

  /** Parses a network section (records interned) and remembers it. */
  private decodeNet(buf: Uint8Array, at: number, end: number, h: number): NetEntry {
    const r = this.netReader.reset(buf, at, end);
    const count = r.length();
    const net: Envelope[] = new Array(count);
    const bag = this.options.network === 'bag';
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < count; i++) {
      const len = r.length();
      const start = r.pos;
      r.pos += len;
      const copies = bag ? r.varint() : 1;
      const e = this.intern(buf, start, len, copies);
      hi = (hi + e.hHi) | 0;
      lo = (lo + e.hLo) | 0;
      net[i] = e;
    }
    const entry: NetEntry = { net, hi, lo };
    this.netCache.set(buf, at, end - at, h, entry);
    return entry;
  }

  /** Node `id`'s state from its packed bytes (`h`: their hash), decoded once per byte string per role. */
  private nodeState(id: NodeId, buf: Uint8Array, start: number, len: number, h: number): unknown {
    const role = this.roleOfNode[id]!;
    const known = role.decoded.get(buf, start, len, h);
    if (known !== undefined) return known;
    const r = this.nodeReader.reset(buf, start, start + len);
    const value = role.def.state.decode(r);
    if (r.pos !== start + len) throw new DecodeError('trailing bytes after a node state', r.pos);
    role.decoded.set(buf, start, len, h, value);
    return value;
  }

  /** The interned envelope for these record bytes and count. */
  private intern(buf: Uint8Array, start: number, len: number, count: number): Envelope {
    const h = this.lanes;
    hash(buf, start, len, count, h);
    const slot = (h[0]! ^ (h[1]! >>> 7)) & (INTERN_SIZE - 1);
    const e = this.interned[slot];
    if (e !== undefined && e.count === count && e.hHi === h[0] && e.hLo === h[1] && e.bytes.length === len) {
      const b = e.bytes;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (b[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return e;
    }
    const bytes = buf.slice(start, start + len);
    const er = this.envReader.reset(bytes);
    const from = er.varint();
    const to = er.varint();
    const channel = er.u8();
    const made: Envelope = { bytes, from, to, channel, count, hHi: h[0]!, hLo: h[1]!, payload: undefined, outcomes: null, lastState: undefined, lastOutcome: null };
    this.interned[slot] = made;
    return made;
  }

  /**
   * The world's 64-bit fingerprint into `out`, computed as a sum of component hashes (each
   * node's state with its id and crash flag; each envelope with its count; the clock and
   * crash counters; the history). A successor re-hashes only what changed, so the ~85% of
   * successors that are already visited are recognized without being packed. Order-free sums
   * suit the set and bag networks; FIFO queues (where order matters) hash their packed bytes.
   */
  fingerprintInto(s: WorldState, out: Uint32Array): void {
    if (s === this.fastState) {
      out[0] = this.fastFp[0]!;
      out[1] = this.fastFp[1]!;
      return;
    }
    const h = this.lanes;
    if (this.options.network === 'fifo') {
      const len = this.encodeInto(s);
      hash(this.writer.buf, 0, len, 0, h);
      finishSum(h[0]!, h[1]!, out);
      return;
    }
    this.clockLanes(s);
    let hi = h[0]!;
    let lo = h[1]!;
    const sw = this.scratch;
    const base = s.nodeHi;
    if (base !== null) {
      // From the parent's sum: take out the nodes that changed, add their new hashes.
      hi = (hi + s.nodeSumHi) | 0;
      lo = (lo + s.nodeSumLo) | 0;
    }
    for (let id = 0; id < this.nodeCount; id++) {
      const cached = s.nodeBytes[id];
      if (cached === UNCHANGED) continue;
      if (base !== null) {
        hi = (hi - base[id]!) | 0;
        lo = (lo - s.nodeLo![id]!) | 0;
      }
      if (cached !== null && cached !== UNCHANGED) {
        hash(cached, 0, cached.length, nodeSeed(id, s.crashed[id]!), h);
      } else {
        sw.reset();
        this.encodeNodeState(sw, id, s.nodes[id]);
        hash(sw.buf, 0, sw.pos, nodeSeed(id, s.crashed[id]!), h);
      }
      hi = (hi + h[0]!) | 0;
      lo = (lo + h[1]!) | 0;
    }
    const net = s.net;
    if (net === s.netBase) {
      hi = (hi + s.netSumHi) | 0;
      lo = (lo + s.netSumLo) | 0;
    } else {
      for (let i = 0; i < net.length; i++) {
        hi = (hi + net[i]!.hHi) | 0;
        lo = (lo + net[i]!.hLo) | 0;
      }
    }
    this.historyLanes(s);
    finishSum((hi ^ h[0]!) | 0, (lo ^ h[1]!) | 0, out);
  }

  /** The fingerprint component of the clock and crash counters, into `lanes`. */
  private clockLanes(s: WorldState): void {
    let hi = (Math.imul(s.time, 0x27d4eb2f) + Math.imul(s.crashes + 1, 0x165667b1)) | 0;
    let lo = (Math.imul(s.time + 7, 0x9e3779b1) ^ Math.imul(s.crashes, 0x85ebca77)) | 0;
    if (this.options.clockError > 0) {
      for (let id = 0; id < this.nodeCount; id++) {
        hi = (hi + Math.imul(s.offsets[id]! + 128, 0x2545f491 + id)) | 0;
        lo = (lo ^ Math.imul(s.offsets[id]! + 131 + id, 0x61c88647)) | 0;
      }
    }
    this.lanes[0] = hi;
    this.lanes[1] = lo;
  }

  /** The fingerprint component of the client history (xored in; zero when empty), into `lanes`. */
  private historyLanes(s: WorldState): void {
    const h = this.lanes;
    if (this.clients && s.history.length > 0) {
      const sw = this.scratch.reset();
      this.clients.history.encode(sw, s.history, 'history');
      hash(sw.buf, 0, sw.pos, 0x5eed, h);
    } else {
      h[0] = 0;
      h[1] = 0;
    }
  }

  /** The schema of an envelope's payload: a protocol message, a client request or a reply. */
  payloadSchema(channel: number): Schema<any> {
    if (channel === CHANNEL_MESSAGE) return this.protocol.messages;
    if (!this.clients) throw new Error(`World.payloadSchema: channel ${channel} without clients`);
    return channel === CHANNEL_REQUEST ? this.clients.request : this.clients.reply;
  }

  /** The payload an envelope carries (a message; `{ id, op }` or `{ id, result }` for clients). */
  message(e: Envelope): unknown {
    if (e.payload !== undefined) return e.payload;
    const r = this.msgReader.reset(e.bytes);
    r.varint();
    r.varint();
    r.u8();
    const schema = e.channel === CHANNEL_MESSAGE ? this.protocol.messages : this.payloadSchema(e.channel);
    const payload = schema.decode(r);
    if (r.pos !== e.bytes.length) throw new DecodeError('trailing bytes after a message', r.pos);
    e.payload = payload;
    return payload;
  }

  /** A payload as trace JSON; client traffic is shown as `request` and `reply` messages. */
  payloadJSON(e: Envelope): unknown {
    const payload = this.message(e);
    if (e.channel === CHANNEL_MESSAGE) return this.protocol.messages.toJSON(payload);
    const json = this.payloadSchema(e.channel).toJSON(payload) as { id: number; op?: unknown; result?: unknown };
    return e.channel === CHANNEL_REQUEST ? { kind: 'request', id: json.id, op: json.op } : { kind: 'reply', id: json.id, result: json.result };
  }

  // ---------------------------------------------------------------- successors

  /**
   * Calls `visit` with each successor of `s` that differs from `s`, and {@link event}
   * describing the event that led to it. `visit` returning true stops the enumeration.
   * Returns the number of enabled protocol events (deliveries and actions), self-loops
   * included, so callers can detect deadlock.
   *
   * With `seen`, successors whose fingerprint is already visited are skipped before they are
   * built, when the world can tell their fingerprint from the parent's and a remembered
   * {@link Outcome} (set and bag networks; `s` decoded or expanded); `seen` counts them.
   */
  successors(s: WorldState, visit: (next: WorldState) => boolean | void, seen?: SeenTest): number {
    try {
      return this.enumerate(s, visit, seen);
    } catch (e) {
      if (!this.inSpec || e instanceof HandlerError) throw e;
      this.inSpec = false;
      const message = e instanceof Error ? e.message : String(e);
      throw new HandlerError(`${this.nodeName(this.current)} (${this.roleOfNode[this.current]!.name}.${this.what}) threw: ${message}`, e);
    }
  }

  /** {@link successors} without the error wrapping; spec calls are bracketed by `inSpec`. */
  private enumerate(s: WorldState, visit: (next: WorldState) => boolean | void, seenTest?: SeenTest): number {
    const ev = this.event;
    const mode = this.options.network;
    let enabled = 0;
    this.currentTime = s.time;
    this.currentOffsets = s.offsets;
    const seen = mode !== 'fifo' && seenTest !== undefined && this.enterParent(s) ? seenTest : undefined;

    // Deliveries (and their fault twins: duplicate, drop).
    for (let i = 0; i < s.net.length; i++) {
      const e = s.net[i]!;
      if (mode === 'fifo' && i > 0 && s.net[i - 1]!.from === e.from && s.net[i - 1]!.to === e.to) continue; // only link heads
      const deliverable = !s.crashed[e.to];
      if (deliverable) {
        enabled++;
        if (mode === 'set') {
          // Under the set network a message stays deliverable forever, and most deliveries
          // change nothing by then: outcomes are remembered per (envelope, receiver state).
          // `ev` is said only for a successor built (or a handler run): skipped ones need none.
          const o = e.channel === CHANNEL_MESSAGE ? this.deliveryOutcome(s, e, i) : null;
          if (o === QUIET || (o !== null && seen !== undefined && this.skip(s, e.to, o, seen))) continue;
          ev.kind = 'deliver';
          ev.node = e.to;
          ev.envelope = i;
          const next = o === null ? this.deliver(s, i, false) : this.successorOf(s, e.to, o);
          if (next && visit(next)) return enabled;
          continue;
        }
        // Bag: a delivery consumes one copy; its outcome (remembered) gives the successor's
        // fingerprint, so a visited one is skipped before the handler runs again.
        const o = seen !== undefined && e.channel === CHANNEL_MESSAGE ? this.deliveryOutcome(s, e, i) : null;
        if (o === null || !this.skipBag(s, e.to, o, i, seen!)) {
          ev.kind = 'deliver';
          ev.node = e.to;
          ev.envelope = i;
          const next = this.built(this.deliver(s, i, true));
          if (next && visit(next)) return enabled;
        }
        if (this.options.dup && (o === null || !this.skipBag(s, e.to, o, -1, seen!))) {
          ev.kind = 'duplicate';
          ev.node = e.to;
          ev.envelope = i;
          const twin = this.built(this.deliver(s, i, false));
          if (twin && visit(twin)) return enabled;
        }
      }
      if (this.options.drop && mode !== 'set' && (seen === undefined || !this.skipBag(s, e.to, QUIET, i, seen))) {
        ev.kind = 'drop';
        ev.node = e.to;
        ev.envelope = i;
        const next = this.built(this.withNet(s, this.consume(s.net, i)));
        if (next && visit(next)) return enabled;
      }
    }

    // Local actions.
    for (let id = 0; id < this.nodeCount; id++) {
      if (s.crashed[id]) continue;
      const events = this.actionEvents(id, s.nodes[id]);
      for (let k = 0; k < events.length; k++) {
        const x = events[k]!;
        enabled++;
        const o = x.outcome;
        if (o !== null && (o === QUIET || (seen !== undefined && (mode === 'set' ? this.skip(s, id, o, seen) : this.skipBag(s, id, o, -1, seen))))) continue;
        ev.kind = 'action';
        ev.node = id;
        ev.action = x.name;
        ev.arg = x.arg;
        let next: WorldState | null;
        if (o !== null && mode === 'set') {
          next = this.successorOf(s, id, o);
        } else {
          // Not remembered, or the bag (sends add copies, as `apply` does): run `do` again.
          this.current = id;
          this.sendCount = 0;
          this.replyCount = 0;
          this.what = x.name;
          this.inSpec = true;
          const after = x.action.do(s.nodes[id], this.out, this.ctxs[id]!, x.arg);
          this.inSpec = false;
          next = this.built(this.apply(s, id, after));
        }
        if (next && visit(next)) return enabled;
      }
    }

    // Client invocations: an idle client sends its next operation to a node of the target role.
    const clients = this.clients;
    if (clients) {
      for (let c = clients.role.base; c < clients.role.base + clients.role.count; c++) {
        const cs = s.nodes[c] as ClientState;
        if (cs.pending !== null || cs.next >= clients.opsPerClient) continue;
        for (let k = 0; k < clients.ops.length; k++) {
          for (let to = clients.target.base; to < clients.target.base + clients.target.count; to++) {
            enabled++;
            ev.kind = 'invoke';
            ev.node = c;
            ev.envelope = to;
            ev.arg = k;
            if (visit(this.invoke(s, c, to, clients.ops[k]))) return enabled;
          }
        }
      }
    }

    // Crashes and restarts.
    if (s.crashes < this.options.crashes) {
      for (let id = 0; id < this.nodeCount; id++) {
        if (s.crashed[id] || this.roleOfNode[id] === this.clients?.role) continue;
        ev.kind = 'crash';
        ev.node = id;
        if (visit(this.crash(s, id))) return enabled;
      }
    }
    for (let id = 0; id < this.nodeCount; id++) {
      if (!s.crashed[id]) continue;
      ev.kind = 'restart';
      ev.node = id;
      const crashed = s.crashed.slice();
      crashed[id] = 0;
      const nodeBytes = s.nodeBytes.slice();
      nodeBytes[id] = null;
      if (visit({ ...s, crashed, nodeBytes })) return enabled;
    }

    // The clock: true time advances; node clocks drift within the error bound.
    if (s.time < this.options.maxTime) {
      ev.kind = 'tick';
      if (visit({ ...s, time: s.time + 1 })) return enabled;
    }
    const bound = this.options.clockError;
    if (bound > 0) {
      for (let id = 0; id < this.nodeCount; id++) {
        if (this.roleOfNode[id] === this.clients?.role) continue;
        for (const by of DRIFTS) {
          const offset = s.offsets[id]! + by;
          if (offset < -bound || offset > bound) continue;
          ev.kind = 'drift';
          ev.node = id;
          ev.arg = by;
          const offsets = s.offsets.slice();
          offsets[id] = offset;
          if (visit({ ...s, offsets })) return enabled;
        }
      }
    }
    return enabled;
  }

  private deliver(s: WorldState, i: number, consume: boolean): WorldState | null {
    const e = s.net[i]!;
    const id = e.to;
    const msg = this.message(e);
    this.current = id;
    this.sendCount = 0;
    this.replyCount = 0;
    const info = this.roleOfNode[id]!;
    let after: unknown;
    let history = s.history;
    if (e.channel === CHANNEL_MESSAGE) {
      const def = info.def;
      if (def.onMessage) {
        this.what = 'onMessage';
        this.inSpec = true;
        after = def.onMessage(s.nodes[id], e.from, msg, this.out, this.ctxs[id]!);
        this.inSpec = false;
      } else {
        after = s.nodes[id];
      }
    } else if (e.channel === CHANNEL_REQUEST) {
      const req = msg as { id: number; op: unknown };
      this.currentRequest = { client: e.from, id: req.id };
      const request = { client: e.from, id: req.id, op: req.op };
      this.what = 'onRequest';
      this.inSpec = true;
      after = info.def.onRequest!(s.nodes[id], request, this.out, this.ctxs[id]!);
      this.inSpec = false;
      this.currentRequest = null;
    } else {
      // A reply reaches its client: it completes the pending operation (stale replies are ignored).
      const rep = msg as { id: number; result: unknown };
      const cs = s.nodes[id] as ClientState;
      after = cs;
      if (cs.pending !== null && cs.pending.id === rep.id) {
        after = { next: cs.next, pending: null };
        history = [...s.history, { kind: 'return', client: id, id: rep.id, result: rep.result }];
      }
    }
    const base = history === s.history ? s : { ...s, history };
    const changed = history !== s.history;
    if (!consume) return this.apply(base, id, after, changed);
    return this.apply({ ...base, net: this.consume(s.net, i) }, id, after, true);
  }

  /** The outcome of delivering protocol message `e` in `s` (remembered), or null when the handler read the clock or replied. */
  private deliveryOutcome(s: WorldState, e: Envelope, index: number): Outcome | null {
    const id = e.to;
    const state = s.nodes[id];
    if (e.lastOutcome !== null && e.lastState === state) return e.lastOutcome;
    const memo = e.outcomes;
    if (memo !== null) {
      const known = memo.get(state);
      if (known !== undefined) {
        e.lastState = state;
        e.lastOutcome = known;
        return known;
      }
    }
    const msg = this.message(e);
    const def = this.roleOfNode[id]!.def;
    // Said before the handler runs, so an error in it is reported with this event.
    this.event.kind = 'deliver';
    this.event.node = id;
    this.event.envelope = index;
    this.current = id;
    this.sendCount = 0;
    this.replyCount = 0;
    this.clockRead = false;
    let after = state;
    if (def.onMessage) {
      this.what = 'onMessage';
      this.inSpec = true;
      after = def.onMessage(state, e.from, msg, this.out, this.ctxs[id]!);
      this.inSpec = false;
    }
    if (this.clockRead || this.replyCount > 0) return null;
    const o = this.outcome(id, state, after);
    if (this.memoCount < MEMO_MAX) {
      (e.outcomes ??= new Map()).set(state, o);
      this.memoCount++;
    }
    return o;
  }

  /**
   * Node `id`'s enabled actions in `state` (remembered per node and state: `choices` and `when`
   * are pure), with their outcomes on the set and bag networks (`do` is pure too; an outcome
   * that read the clock is left null, as are all outcomes on FIFO networks).
   */
  private actionEvents(id: NodeId, state: unknown): readonly ActionEvent[] {
    if (this.lastActionEvents[id] !== null && this.lastActionState[id] === state) return this.lastActionEvents[id]!;
    const memo = this.actionMemo[id]!;
    const known = memo.get(state);
    if (known !== undefined) {
      this.lastActionState[id] = state;
      this.lastActionEvents[id] = known;
      return known;
    }
    const info = this.roleOfNode[id]!;
    const ctx = this.ctxs[id]!;
    const ev = this.event;
    const events: ActionEvent[] = [];
    const outcomes = this.options.network !== 'fifo';
    this.current = id;
    for (let a = 0; a < info.actions.length; a++) {
      const [name, action] = info.actions[a]!;
      let args: readonly unknown[] = NO_ARG;
      if (action.choices) {
        this.what = `${name}.choices`;
        this.inSpec = true;
        args = action.choices(state, ctx);
        this.inSpec = false;
      }
      for (let k = 0; k < args.length; k++) {
        const arg = args[k];
        this.what = name;
        if (action.when) {
          this.inSpec = true;
          const enabledNow = action.when(state, ctx, arg);
          this.inSpec = false;
          if (!enabledNow) continue;
        }
        if (!outcomes) {
          events.push({ name, arg, action, outcome: null });
          continue;
        }
        // Said before `do` runs, so an error in it is reported with this event.
        ev.kind = 'action';
        ev.node = id;
        ev.action = name;
        ev.arg = arg;
        this.sendCount = 0;
        this.replyCount = 0;
        this.clockRead = false;
        this.inSpec = true;
        const after = action.do(state, this.out, ctx, arg);
        this.inSpec = false;
        const outcome = this.clockRead || this.replyCount > 0 ? null : this.outcome(id, state, after);
        events.push({ name, arg, action, outcome });
      }
    }
    if (this.memoCount < MEMO_MAX) {
      memo.set(state, events);
      this.memoCount += events.length + 1;
    }
    return events;
  }

  /** The outcome of the handler that just ran at node `id` (its sends are in `sendTo`/`sendMsg`). */
  private outcome(id: NodeId, state: unknown, after: unknown): Outcome {
    if (after === state && this.sendCount === 0) return QUIET;
    let hHi = 0;
    let hLo = 0;
    let bytes: Uint8Array | null = null;
    if (after !== state) {
      const sw = this.scratch.reset();
      this.encodeNodeState(sw, id, after);
      hash(sw.buf, 0, sw.pos, nodeSeed(id, 0), this.lanes);
      hHi = this.lanes[0]!;
      hLo = this.lanes[1]!;
      bytes = sw.buf.slice(0, sw.pos);
    }
    // The set network sends a message sent twice in one step once; the bag, twice.
    const sends: Envelope[] = [];
    const all: Envelope[] = new Array(this.sendCount);
    for (let k = 0; k < this.sendCount; k++) {
      const len = this.encodeEnvelope(id, this.sendTo[k]!, this.sendMsg[k]);
      const e = this.intern(this.envWriter.buf, 0, len, 1);
      all[k] = e;
      if (indexOfEnvelope(sends, e, sends.length) < 0) sends.push(e);
    }
    return { after, changed: after !== state, hHi, hLo, bytes, sends, all: all.length === sends.length ? sends : all };
  }

  /**
   * Prepares the fast path for a parent whose component hashes are all known (decoded from
   * bytes, or expanded from interned components): its summed fingerprint lanes and load. False
   * when `s` is not such a world.
   */
  private enterParent(s: WorldState): boolean {
    if (s.nodeHi === null || s.net !== s.netBase) return false;
    for (let id = 0; id < this.nodeCount; id++) if (s.nodeBytes[id] !== UNCHANGED) return false;
    const h = this.lanes;
    this.clockLanes(s);
    this.parentHi = (h[0]! + s.nodeSumHi + s.netSumHi) | 0;
    this.parentLo = (h[1]! + s.nodeSumLo + s.netSumLo) | 0;
    this.historyLanes(s);
    this.historyHi = h[0]!;
    this.historyLo = h[1]!;
    this.parentInFlight = this.inFlight(s.net);
    return true;
  }

  /**
   * Whether the successor of `s` where node `id` had outcome `o` is to be skipped: it is no
   * step at all (as {@link apply} would say), or `seen` knows its fingerprint. The fingerprint
   * is the parent's with node `id`'s component replaced and the new envelopes' added.
   */
  private skip(s: WorldState, id: NodeId, o: Outcome, seen: SeenTest): boolean {
    const net = s.net;
    const sends = o.sends;
    let hi = 0;
    let lo = 0;
    let added = 0;
    for (let k = 0; k < sends.length; k++) {
      const e = sends[k]!;
      if (indexOfEnvelope(net, e, net.length) >= 0) continue;
      hi = (hi + e.hHi) | 0;
      lo = (lo + e.hLo) | 0;
      added++;
    }
    if (!o.changed && added === 0) return true;
    if (added > 0 && this.parentInFlight + added > this.options.maxInFlight) return true;
    return this.seenWith(s, id, o, hi, lo, seen);
  }

  /**
   * Whether `seen` knows the successor whose network sum differs from the parent's by
   * (`netHi`, `netLo`) and where node `id` had outcome `o`; if not, the fingerprint waits in
   * `fastFp` for the successor about to be built (see {@link built}).
   */
  private seenWith(s: WorldState, id: NodeId, o: Outcome, netHi: number, netLo: number, seen: SeenTest): boolean {
    let hi = netHi;
    let lo = netLo;
    if (o.changed) {
      hi = (hi + o.hHi - s.nodeHi![id]!) | 0;
      lo = (lo + o.hLo - s.nodeLo![id]!) | 0;
    }
    const fp = this.fastFp;
    finishSum(((this.parentHi + hi) | 0) ^ this.historyHi, ((this.parentLo + lo) | 0) ^ this.historyLo, fp);
    if (seen(fp[0]!, fp[1]!)) return true;
    this.fastPending = true;
    return false;
  }

  /**
   * {@link skip} for the bag network: the successor of `s` where node `id` had outcome `o` after
   * one copy of envelope `consumed` was taken (-1: none, as for an action or a duplicating
   * delivery), with every send added as one more copy. Counts are part of an envelope's
   * component hash, so each touched record swaps its old hash for the new one.
   */
  private skipBag(s: WorldState, id: NodeId, o: Outcome, consumed: number, seen: SeenTest): boolean {
    const all = o.all;
    if (consumed < 0 && !o.changed && all.length === 0) return true; // no step at all
    const load = this.parentInFlight + all.length - (consumed < 0 ? 0 : 1);
    if (load > this.options.maxInFlight) return true; // as `apply` refuses it
    this.touched.length = 0;
    this.recountHi = 0;
    this.recountLo = 0;
    if (consumed >= 0) {
      const e = s.net[consumed]!;
      this.recountRecord(e.bytes, e.count, e.count - 1);
    }
    for (let k = 0; k < all.length; k++) {
      const bytes = all[k]!.bytes;
      const copies = this.copiesIn(s.net, bytes);
      this.recountRecord(bytes, copies, copies + 1);
    }
    return this.seenWith(s, id, o, this.recountHi, this.recountLo, seen);
  }

  /** Adds to `recountHi/Lo` the change of the record with these bytes from `from` copies to `to`. */
  private recountRecord(bytes: Uint8Array, from: number, to: number): void {
    const h = this.lanes;
    if (from > 0) {
      hash(bytes, 0, bytes.length, from, h);
      this.recountHi = (this.recountHi - h[0]!) | 0;
      this.recountLo = (this.recountLo - h[1]!) | 0;
    }
    if (to > 0) {
      hash(bytes, 0, bytes.length, to, h);
      this.recountHi = (this.recountHi + h[0]!) | 0;
      this.recountLo = (this.recountLo + h[1]!) | 0;
    }
    this.touched.push(bytes, to);
  }

  /** Copies of the envelope with these bytes, counting the changes `skipBag` made so far. */
  private copiesIn(net: Envelope[], bytes: Uint8Array): number {
    const touched = this.touched;
    for (let t = touched.length - 2; t >= 0; t -= 2) {
      const b = touched[t] as Uint8Array;
      if (b === bytes || (b.length === bytes.length && compareRange(b, bytes, bytes.length) === 0)) return touched[t + 1] as number;
    }
    for (let i = 0; i < net.length; i++) {
      const b = net[i]!.bytes;
      if (b === bytes || (b.length === bytes.length && compareRange(b, bytes, bytes.length) === 0)) return net[i]!.count;
    }
    return 0;
  }

  /** A successor built after `skip` or `skipBag` let it through: it carries the fingerprint they computed. */
  private built(next: WorldState | null): WorldState | null {
    if (this.fastPending) {
      this.fastState = next;
      this.fastPending = false;
    }
    return next;
  }

  /** The successor of `s` where node `id` had outcome `o` (set network), or null if it is no step. */
  private successorOf(s: WorldState, id: NodeId, o: Outcome): WorldState | null {
    const net = o.sends.length === 0 ? s.net : this.withSends(s.net, o.sends);
    if (!o.changed && net === s.net) return null;
    if (net !== s.net && this.inFlight(net) > this.options.maxInFlight) return null;
    return this.built(o.changed ? this.withNode(s, id, o.after, net, o.bytes) : { ...s, net });
  }

  /**
   * `net` with `sends` added (set network). Networks are immutable and recur across many
   * parents, so the result is remembered per (network, sends): equal inputs give the same
   * array, which packing and interning then recognize by identity.
   */
  private withSends(net: Envelope[], sends: readonly Envelope[]): Envelope[] {
    let bySends = this.sendsMemo.get(net);
    const known = bySends?.get(sends);
    if (known !== undefined) return known;
    let out = net;
    for (let k = 0; k < sends.length; k++) {
      const e = sends[k]!;
      out = this.insert(out, e.bytes, e.bytes.length, e.from, e.to, out === net);
    }
    if (this.sendsMemo.size >= SENDS_MEMO_MAX) this.sendsMemo.clear();
    if (bySends === undefined) this.sendsMemo.set(net, (bySends = new Map()));
    bySends.set(sends, out);
    return out;
  }

  /** Client `c` invokes `op` at node `to`. */
  private invoke(s: WorldState, c: NodeId, to: NodeId, op: unknown): WorldState {
    const clients = this.clients!;
    const cs = s.nodes[c] as ClientState;
    const id = cs.next;
    const w = this.envWriter.reset();
    w.varint(c);
    w.varint(to);
    w.u8(CHANNEL_REQUEST);
    clients.request.encode(w, { id, op }, 'request');
    const net = this.insert(s.net, w.buf, w.pos, c, to, true);
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[c] = { next: id + 1, pending: { id, op } } satisfies ClientState;
    nodeBytes[c] = null;
    return { ...s, nodes, nodeBytes, net, history: [...s.history, { kind: 'invoke', client: c, id, op }] };
  }

  /** The successor after node `id` moved to `after` and sent what it sent; null if nothing changed. */
  private apply(s: WorldState, id: NodeId, after: unknown, changed = false): WorldState | null {
    const nodeChanged = after !== s.nodes[id];
    if (!nodeChanged && this.sendCount === 0 && this.replyCount === 0 && !changed) return null;
    let net = s.net;
    if (this.sendCount > 0 || this.replyCount > 0) {
      net = this.addSends(net, id);
      if (net === s.net && !nodeChanged && !changed) return null;
    }
    if (this.inFlight(net) > this.options.maxInFlight) return null;
    if (!nodeChanged) return net === s.net ? s : { ...s, net };
    return this.withNode(s, id, after, net);
  }

  /** `s` with node `id` in state `after` (packed: `bytes`, when known) and the network `net`. */
  private withNode(s: WorldState, id: NodeId, after: unknown, net: Envelope[], bytes: Uint8Array | null = null): WorldState {
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[id] = after;
    nodeBytes[id] = bytes;
    return {
      time: s.time, crashes: s.crashes, crashed: s.crashed, offsets: s.offsets, nodes, nodeBytes, net, history: s.history,
      src: s.src, nodeAt: s.nodeAt, nodeHi: s.nodeHi, nodeLo: s.nodeLo, nodeSumHi: s.nodeSumHi, nodeSumLo: s.nodeSumLo,
      netBase: s.netBase, netAt: s.netAt, netEnd: s.netEnd, netSumHi: s.netSumHi, netSumLo: s.netSumLo,
    };
  }

  private withNet(s: WorldState, net: Envelope[]): WorldState {
    return { ...s, net };
  }

  private inFlight(net: Envelope[]): number {
    if (this.options.maxInFlight === Number.POSITIVE_INFINITY) return 0;
    let n = 0;
    for (const e of net) n += e.count;
    return n;
  }

  /** The envelope with these bytes and count (interned). */
  fresh(bytes: Uint8Array, count: number): Envelope {
    return this.intern(bytes, 0, bytes.length, count);
  }

  private recount(e: Envelope, count: number): Envelope {
    return this.intern(e.bytes, 0, e.bytes.length, count);
  }

  /** One copy of envelope i removed. */
  private consume(net: Envelope[], i: number): Envelope[] {
    const e = net[i]!;
    const out = net.slice();
    if (e.count > 1) out[i] = this.recount(e, e.count - 1);
    else out.splice(i, 1);
    return out;
  }

  private addSends(net: Envelope[], from: NodeId): Envelope[] {
    let out = net;
    for (let k = 0; k < this.sendCount; k++) {
      const to = this.sendTo[k]!;
      const len = this.encodeEnvelope(from, to, this.sendMsg[k]);
      out = this.insert(out, this.envWriter.buf, len, from, to, out === net);
    }
    for (let k = 0; k < this.replyCount; k++) {
      const { client, id, result } = this.replies[k]!;
      const w = this.envWriter.reset();
      w.varint(from);
      w.varint(client);
      w.u8(CHANNEL_REPLY);
      try {
        this.clients!.reply.encode(w, { id, result }, 'reply');
      } catch (e) {
        throw new HandlerError(`node ${this.nodeName(from)} replied with a result that does not fit the result schema: ${(e as Error).message}`, e);
      }
      out = this.insert(out, w.buf, w.pos, from, client, out === net);
    }
    return out;
  }

  /** Encodes a protocol message envelope into `envWriter`; returns its length. */
  private encodeEnvelope(from: NodeId, to: NodeId, msg: unknown): number {
    const w = this.envWriter.reset();
    w.varint(from);
    w.varint(to);
    w.u8(CHANNEL_MESSAGE);
    try {
      this.protocol.messages.encode(w, msg as never, 'message');
    } catch (e) {
      throw new HandlerError(`node ${this.nodeName(from)} sent a message that does not fit the message schema: ${(e as Error).message}`, e);
    }
    return w.pos;
  }

  /** Adds one envelope (its bytes: `buf[0..len)`); returns `net` itself when a set network already holds it. */
  private insert(net: Envelope[], buf: Uint8Array, len: number, from: NodeId, to: NodeId, mustCopy: boolean): Envelope[] {
    const mode = this.options.network;
    if (mode === 'fifo') {
      // After the last envelope of the same link, else before the first link that sorts after it.
      let at = net.length;
      for (let i = 0; i < net.length; i++) {
        const e = net[i]!;
        if (e.from > from || (e.from === from && e.to > to)) {
          at = i;
          break;
        }
      }
      const out = mustCopy ? net.slice() : net;
      out.splice(at, 0, this.intern(buf, 0, len, 1));
      return out;
    }
    let lo = 0;
    let hi = net.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareRange(net[mid]!.bytes, buf, len);
      if (c === 0) {
        if (mode === 'set') return net;
        const out = mustCopy ? net.slice() : net;
        out[mid] = this.recount(net[mid]!, net[mid]!.count + 1);
        return out;
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    const out = mustCopy ? net.slice() : net;
    out.splice(lo, 0, this.intern(buf, 0, len, 1));
    return out;
  }

  /** Node `id` crashes: it keeps its durable fields and restarts from `init` for the rest. */
  crash(s: WorldState, id: NodeId): WorldState {
    const info = this.roleOfNode[id]!;
    const fresh = this.call(id, () => info.def.init(this.ctxs[id]!), 'init');
    let kept: unknown;
    if (info.durable === true) kept = s.nodes[id];
    else if (info.durable.length === 0) kept = fresh;
    else {
      const old = s.nodes[id] as Record<string, unknown>;
      const next = { ...(fresh as Record<string, unknown>) };
      for (const f of info.durable) next[f] = old[f];
      kept = next;
    }
    const crashed = s.crashed.slice();
    crashed[id] = 1;
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[id] = kept;
    nodeBytes[id] = null; // the crash flag is part of the node's section
    return {
      time: s.time, crashes: s.crashes + 1, crashed, offsets: s.offsets, nodes, nodeBytes, net: s.net, history: s.history,
      src: s.src, nodeAt: s.nodeAt, nodeHi: s.nodeHi, nodeLo: s.nodeLo, nodeSumHi: s.nodeSumHi, nodeSumLo: s.nodeSumLo,
      netBase: s.netBase, netAt: s.netAt, netEnd: s.netEnd, netSumHi: s.netSumHi, netSumLo: s.netSumLo,
    };
  }

  /** Runs spec code, turning a throw into a {@link HandlerError} that says where. */
  private call<T>(id: NodeId, f: () => T, what: string): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof HandlerError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      throw new HandlerError(`${this.nodeName(id)} (${this.roleOfNode[id]!.name}.${what}) threw: ${message}`, e);
    }
  }

  // ---------------------------------------------------------------- traces

  /** The event {@link event} describes, as trace JSON, given the state it was taken in. */
  describe(parent: WorldState): TraceEvent {
    const ev = this.event;
    switch (ev.kind) {
      case 'deliver':
      case 'duplicate':
      case 'drop': {
        const e = parent.net[ev.envelope]!;
        return { kind: ev.kind, from: e.from, to: e.to, msg: this.payloadJSON(e) };
      }
      case 'invoke': {
        const json = this.clients!.request.toJSON({ id: 0, op: this.clients!.ops[ev.arg as number] }) as { op: unknown };
        return { kind: 'invoke', node: ev.node, to: ev.envelope, op: json.op };
      }
      case 'action':
        return ev.arg === undefined ? { kind: 'action', node: ev.node, action: ev.action } : { kind: 'action', node: ev.node, action: ev.action, arg: ev.arg };
      case 'crash':
      case 'restart':
        return { kind: ev.kind, node: ev.node };
      case 'tick':
        return { kind: 'tick' };
      case 'drift':
        return { kind: 'drift', node: ev.node, by: ev.arg as number };
    }
  }

  /** A world state as plain JSON (trace files and rendering). */
  toJSON(s: WorldState): WorldJSON {
    return {
      time: s.time,
      crashes: s.crashes,
      ...(this.options.clockError > 0 ? { clockOffsets: Array.from(s.offsets) } : {}),
      nodes: s.nodes.map((state, id) => ({
        id,
        name: this.nodeName(id),
        role: this.roleOfNode[id]!.name,
        crashed: s.crashed[id] === 1,
        state: this.roleOfNode[id]!.def.state.toJSON(state),
      })),
      network: s.net.map((e) => ({ from: e.from, to: e.to, msg: this.payloadJSON(e), count: e.count })),
      ...(this.clients ? { history: this.clients.history.toJSON(s.history) as unknown[] } : {}),
    };
  }


}


const DRIFTS = [-1, 1] as const;

/** Byte order of `a` against `b[0..len)` (the same order as compareBytes). */
function compareRange(a: Uint8Array, b: Uint8Array, len: number): number {
  const n = a.length < len ? a.length : len;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - len;
}
/** Marks a node unchanged since decoding (its section in `src` is copied when packing). */
export const UNCHANGED = new Uint8Array(0);
const INTERN_SIZE = 1 << 14;
/** How many networks `withSends` remembers results for (then it starts over). */
const SENDS_MEMO_MAX = 1 << 14;
/** How many outcomes to remember at most (then the memo stops growing). */
const MEMO_MAX = 1 << 19;

/** The index of an envelope equal to `e` (bytes and count) among `list[0..end)`, or -1. */
function indexOfEnvelope(list: readonly Envelope[], e: Envelope, end: number): number {
  for (let i = 0; i < end; i++) {
    const x = list[i]!;
    if (x === e) return i;
    if (x.hHi !== e.hHi || x.hLo !== e.hLo || x.count !== e.count || x.bytes.length !== e.bytes.length) continue;
    if (compareRange(x.bytes, e.bytes, e.bytes.length) === 0) return i;
  }
  return -1;
}
/** Bound locally: calls through an imported binding cost a getter under some loaders. */
const hash = hash64;

/** Seeds a node's component hash with its position and crash flag. */
export function nodeSeed(id: NodeId, crashed: number): number {
  return Math.imul(id + 1, 0x9e3779b1) ^ (crashed ? 0x7f4a7c15 : 0);
}

const NO_HISTORY: readonly HistoryEvent[] = [];

/** The source fields of a world not decoded from bytes. */
export const NO_SOURCE = {
  src: null, nodeAt: null, nodeHi: null, nodeLo: null, nodeSumHi: 0, nodeSumLo: 0,
  netBase: null, netAt: 0, netEnd: 0, netSumHi: 0, netSumLo: 0,
} as const;

/** A decoded network section: its interned envelopes and their hash sum. */
interface NetEntry {
  net: Envelope[];
  hi: number;
  lo: number;
}

const NO_ARG: readonly unknown[] = [undefined];


/**
 * The node sections (0..n-1) and network section (n) of the world decoded last: their bytes
 * (copied), hashes and decoded values. The frontier holds siblings and cousins one after
 * another, so most sections equal the last one's and skip hashing and cache lookups.
 */
class LastDecoded {
  readonly bytes: Uint8Array[] = [];
  readonly lengths: Int32Array;
  readonly crashed: Int16Array;
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly values: unknown[];
  net: NetEntry | null = null;

  constructor(nodes: number) {
    for (let i = 0; i <= nodes; i++) this.bytes.push(new Uint8Array(16));
    this.lengths = new Int32Array(nodes + 1).fill(-1);
    this.crashed = new Int16Array(nodes).fill(-1);
    this.hi = new Int32Array(nodes);
    this.lo = new Int32Array(nodes);
    this.values = new Array(nodes);
  }

  same(section: number, buf: Uint8Array, start: number, len: number): boolean {
    if (this.lengths[section] !== len) return false;
    const b = this.bytes[section]!;
    for (let i = 0; i < len; i++) if (b[i] !== buf[start + i]) return false;
    return true;
  }

  remember(section: number, buf: Uint8Array, start: number, len: number): void {
    let b = this.bytes[section]!;
    if (b.length < len) this.bytes[section] = b = new Uint8Array(Math.max(len, b.length * 2));
    for (let i = 0; i < len; i++) b[i] = buf[start + i]!; // sections are short: no view to allocate
    this.lengths[section] = len;
  }
}

/**
 * A direct-mapped cache of values by the bytes they were decoded from. Protocol states and
 * networks repeat across millions of worlds; decoding each byte string once and sharing the
 * (immutable) value saves both time and garbage. A slot holds the last value whose bytes
 * hashed to it. Callers that already hashed the bytes pass that hash.
 */
class BytesCache<T> {
  private readonly keys: (Uint8Array | null)[];
  private readonly values: (T | undefined)[];
  private readonly lanes = new Int32Array(2);

  constructor(private readonly size: number) {
    this.keys = new Array(size).fill(null);
    this.values = new Array(size);
  }

  /** A hash of the bytes, for callers that have none. */
  hashOf(buf: Uint8Array, start: number, len: number): number {
    hash64(buf, start, len, 0x6e6574, this.lanes);
    return this.lanes[0]! ^ (this.lanes[1]! >>> 11);
  }

  get(buf: Uint8Array, start: number, len: number, h: number): T | undefined {
    const slot = (h ^ (h >>> 15)) & (this.size - 1);
    const key = this.keys[slot];
    if (key === null || key.length !== len) return undefined;
    for (let i = 0; i < len; i++) if (key[i] !== buf[start + i]) return undefined;
    return this.values[slot];
  }

  set(buf: Uint8Array, start: number, len: number, h: number, value: T): void {
    const slot = (h ^ (h >>> 15)) & (this.size - 1);
    this.keys[slot] = buf.slice(start, start + len);
    this.values[slot] = value;
  }
}
