/**
 * The world's state as the checker holds it: node states, the network, crash flags, the clock
 * and the client history. Both the reference semantics (semantics.ts) and the fast successor
 * layer (fast-successors.ts) produce these; the codec (world-codec.ts) packs them.
 */
import type { NodeId } from '../specs/core/schema.ts';

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
  /** How many restarts in a run may find the node's durable state damaged (default 0; see crashes.ts). */
  diskFaults?: number;
  /** How many client restarts a run may have in all (default 0; see clients.ts). */
  clientRestarts?: number;
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
  /**
   * The largest message payload the executor's transport carries, in bytes: a larger one in
   * flight violates the `message size` invariant (checker/message-size.ts). Infinity: unchecked.
   */
  maxMessageBytes?: number;
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
 * One message in flight. `bytes` is its canonical envelope encoding (from, to, channel,
 * payload). Envelopes are interned (equal bytes and count give the same object), so they carry
 * their decoded payload and component hash once for all the worlds they appear in.
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
  /** Fast path: what delivering this envelope did, by receiver state (see fast-successors.ts). */
  outcomes: Map<unknown, Outcome> | null;
  /** Fast path: the receiver state last looked up in `outcomes`, and its outcome. */
  lastState: unknown;
  lastOutcome: Outcome | null;
}

/**
 * What one handler call did to its node: the state it returned and the messages it sent. A
 * handler is a pure function of (node, state, event) unless it reads the clock, so the fast path
 * remembers outcomes and computes a successor's fingerprint from its parent's without running
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

/** One entry of a client history: an invocation or a return, in the order they happened. */
export type HistoryEvent =
  | { readonly kind: 'invoke'; readonly client: NodeId; readonly id: number; readonly op: unknown }
  | { readonly kind: 'return'; readonly client: NodeId; readonly id: number; readonly result: unknown };

/** A world state, decoded. Node states are the spec's own values. */
export interface WorldState {
  time: number;
  /** Crashes used (and, when the world has disk faults, disk faults used: see crashes.ts). */
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

/** Marks a node unchanged since decoding (its section in `src` is copied when packing). */
export const UNCHANGED = new Uint8Array(0);

/** The source fields of a world not decoded from bytes. */
export const NO_SOURCE = {
  src: null, nodeAt: null, nodeHi: null, nodeLo: null, nodeSumHi: 0, nodeSumLo: 0,
  netBase: null, netAt: 0, netEnd: 0, netSumHi: 0, netSumLo: 0,
} as const;

/** The kinds of events a world has. */
export type EventKind = 'deliver' | 'duplicate' | 'drop' | 'action' | 'crash' | 'restart' | 'tick' | 'invoke' | 'drift';

/**
 * An event of the world. The fast path reuses one mutable instance (no allocation per
 * successor); the reference semantics returns fresh ones.
 */
export interface EventRef {
  kind: EventKind;
  /** The node that takes the step: the receiver of a delivery, the actor, the crashing node, the invoking client. */
  node: NodeId;
  /** Envelope index (deliver, duplicate, drop) in the state's network; the target node (invoke). */
  envelope: number;
  /** Action name (action). */
  action: string;
  /** Action argument (action); op index (invoke); drift step (drift). */
  arg: unknown;
}

/** A world state with `nodes[id]` set to `after`, packed bytes `bytes` (null: to encode), and network `net`. */
export function withNode(s: WorldState, id: NodeId, after: unknown, net: Envelope[], bytes: Uint8Array | null = null): WorldState {
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
