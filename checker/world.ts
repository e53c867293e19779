/**
 * The world: a protocol's nodes under fixed params, with a modeled network, crashes, a clock
 * and clients, as one packed canonical state. This module puts the parts together; each part
 * owns one concern:
 *
 * - specs/core/layout.ts — where nodes sit (ids, roles, names, ctx), shared with the executor;
 * - specs/core/step.ts — how handlers run and what `out` lets them do, shared with the executor;
 * - world-state.ts — the decoded state and the event type;
 * - network.ts, crashes.ts, clock.ts, clients.ts — the rules of each kind of event;
 * - envelopes.ts — messages in flight (encoding, interning, payloads);
 * - world-codec.ts — the packed form;  world-fingerprint.ts — the fingerprint;
 * - semantics.ts — the reference semantics, `events(s)` and `next(s, e)`;
 * - fast-successors.ts — the same successors with remembered outcomes and fingerprint checks.
 *
 * Explorers ask {@link World.successors}; with `fastPath: false` it enumerates the reference
 * semantics instead of the fast layer, decodes without caches and fingerprints from the packed
 * bytes, so a run of each can be compared.
 */
import type { Writer } from '../specs/core/bytes.ts';
import { Layout } from '../specs/core/layout.ts';
import type { DamageKind, Params, Protocol, SpecProperty } from '../specs/core/protocol.ts';
import type { NodeId, Schema } from '../specs/core/schema.ts';
import { StepRunner } from '../specs/core/step.ts';
import { Clients } from './clients.ts';
import { Clock } from './clock.ts';
import { Crashes, isLostWriteStep } from './crashes.ts';
import { Envelopes } from './envelopes.ts';
import { FastSuccessors, type SeenTest } from './fast-successors.ts';
import { Network } from './network.ts';
import { Semantics } from './semantics.ts';
import { WorldCodec } from './world-codec.ts';
import { WorldFingerprints } from './world-fingerprint.ts';
import { NO_SOURCE, type Envelope, type EventRef, type WorldOptions, type WorldState } from './world-state.ts';
import type { LostWriteTraceStep, TraceEvent, WorldJSON } from '../traces/format.ts';

export { HandlerError } from '../specs/core/step.ts';
export type { SeenTest } from './fast-successors.ts';
export { defaultWorldOptions, NO_SOURCE, UNCHANGED } from './world-state.ts';
export type { Envelope, EventRef, HistoryEvent, NetworkMode, Outcome, WorldOptions, WorldState } from './world-state.ts';
export type { TraceEvent, WorldJSON } from '../traces/format.ts';
export { nodeSeed } from './world-fingerprint.ts';

/** A spec's world under fixed params and options. */
export class World {
  readonly layout: Layout;
  readonly runner: StepRunner;
  readonly envelopes: Envelopes;
  readonly network: Network;
  readonly crashes: Crashes;
  readonly clock: Clock;
  readonly clients: Clients | null;
  readonly codec: WorldCodec;
  readonly fingerprints: WorldFingerprints;
  readonly semantics: Semantics;
  readonly fast: FastSuccessors;
  readonly properties: readonly SpecProperty[];
  readonly maxInFlight: number;
  /** The state whose clock a running handler reads (`out.now()`). */
  reading: WorldState | null = null;
  private readonly fpOut = new Uint32Array(2);

  constructor(
    readonly protocol: Protocol,
    readonly params: Params,
    readonly options: WorldOptions,
    /** Use the fast successor layer (default); false explores with the reference semantics. */
    readonly fastPath = true,
  ) {
    const clientRestarts = options.clientRestarts ?? 0;
    this.layout = new Layout(protocol, params, undefined, clientRestarts > 0);
    const world = this;
    this.runner = new StepRunner(this.layout, {
      now: (node) => world.reading!.time + world.reading!.offsets[node]!,
      epsilon: options.trueTimeEpsilon,
    });
    this.envelopes = new Envelopes(this.layout);
    this.network = Network.of(this.envelopes, options);
    this.crashes = new Crashes(this.layout, this.runner, options.crashes, options.diskFaults ?? 0);
    this.clock = new Clock(this.layout, options);
    this.clients = this.layout.clients ? new Clients(this.layout, params, clientRestarts) : null;
    this.maxInFlight = options.maxInFlight;
    this.codec = new WorldCodec(this.layout, this.envelopes, this.network, this.clients, options.clockError);
    this.fingerprints = new WorldFingerprints(this.layout.nodeCount, this.codec, this.clients, options.network === 'fifo', options.clockError > 0, this.network.counted);
    this.semantics = new Semantics(this);
    this.fast = new FastSuccessors(this);
    this.properties = protocol.properties ? protocol.properties(params as never) : [];
  }

  get nodeCount(): number {
    return this.layout.nodeCount;
  }

  get roles() {
    return this.layout.roles;
  }

  get roleOfNode() {
    return this.layout.roleOfNode;
  }

  get ctxs() {
    return this.layout.ctxs;
  }

  /** The event that led to the successor last visited by {@link successors}. */
  get event(): EventRef {
    return this.fast.event;
  }

  /** A readable node name: the role, with a 1-based index when the role has several nodes. */
  nodeName(id: NodeId): string {
    return this.layout.nodeName(id);
  }

  /** The initial world (protocols here have one: `init` is deterministic). */
  initial(): WorldState {
    const nodes: unknown[] = [];
    for (let id = 0; id < this.nodeCount; id++) nodes.push(this.runner.init(id));
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

  // ---------------------------------------------------------------- semantics

  /** Every event enabled in `s` (the reference semantics). */
  events(s: WorldState): EventRef[] {
    return this.semantics.events(s);
  }

  /** The state `e` leads to from `s` (the reference semantics): `s` itself for no change, null when not enabled. */
  next(s: WorldState, e: EventRef): WorldState | null {
    return this.semantics.next(s, e);
  }

  /**
   * Calls `visit` with each successor of `s` that differs from `s`, with {@link event}
   * describing the event that led to it; `visit` returning true stops. Returns the number of
   * enabled protocol events (deliveries, actions, invocations), self-loops included, so callers
   * can detect deadlock. With `seen` (fast path only), successors whose fingerprint is already
   * visited are skipped before they are built; `seen` counts them.
   */
  successors(s: WorldState, visit: (next: WorldState) => boolean | void, seen?: SeenTest): number {
    if (this.fastPath) return this.fast.successors(s, visit, seen);
    const event = this.fast.event;
    let enabled = 0;
    for (const e of this.semantics.events(s)) {
      if (Semantics.isProtocolEvent(e)) enabled++;
      const next = this.semantics.next(s, e);
      if (next === null || next === s) continue;
      Object.assign(event, e);
      if (visit(next)) return enabled;
    }
    return enabled;
  }

  /**
   * The deliveries and fair local actions enabled in `s` that the in-flight bound cut (the
   * reference semantics: `next` gives null for an enabled event only when its sends pass the
   * bound), each passed to `cut` with {@link event} describing it. Only liveness runs with a
   * finite `maxInFlight` ask (it runs those handlers again).
   */
  cutByBound(s: WorldState, cut: (e: EventRef) => void): void {
    for (const e of this.semantics.events(s)) {
      if (e.kind !== 'deliver' && !(e.kind === 'action' && this.roleOfNode[e.node]!.def.actions?.[e.action]?.fair)) continue;
      if (this.semantics.next(s, e) === null) cut(e);
    }
  }

  /** Node `id` crashes (keeping its durable fields). */
  crash(s: WorldState, id: NodeId): WorldState {
    return this.crashes.crash(s, id);
  }

  // ---------------------------------------------------------------- packing and fingerprints

  /** Packs a world; returns a view valid until the next encode. */
  encode(s: WorldState): Uint8Array {
    return this.codec.encode(s);
  }

  /** Packs a world into {@link packedBuffer}; returns its length. */
  encodeInto(s: WorldState): number {
    return this.codec.encodeInto(s);
  }

  get packedBuffer(): Uint8Array {
    return this.codec.packedBuffer;
  }

  encodeNodeState(w: Writer, id: NodeId, state: unknown): void {
    this.codec.encodeNodeState(w, id, state);
  }

  encodeNet(w: Writer, net: readonly Envelope[]): void {
    this.codec.encodeNet(w, net);
  }

  /** Unpacks a world (with the codec's caches on the fast path; plainly otherwise). */
  decode(buf: Uint8Array, scratch = false): WorldState {
    return this.fastPath ? this.codec.decode(buf, scratch) : this.codec.decodePlain(buf);
  }

  /** The world's 64-bit fingerprint into `out` (see world-fingerprint.ts). */
  fingerprintInto(s: WorldState, out: Uint32Array): void {
    if (!this.fastPath) {
      this.fingerprints.ofPacked(this.codec.encode(s), out);
      return;
    }
    if (!this.fast.knownFingerprint(s, out)) this.fingerprints.of(s, out);
  }

  /** The fingerprint as defined on the packed world (whatever the path), as [hi, lo]. */
  referenceFingerprint(s: WorldState): [number, number] {
    this.fingerprints.ofPacked(this.codec.encode(s).slice(), this.fpOut);
    return [this.fpOut[0]!, this.fpOut[1]!];
  }

  // ---------------------------------------------------------------- messages

  /** The schema of an envelope's payload: a protocol message, a client request or a reply. */
  payloadSchema(channel: number): Schema<any> {
    return this.envelopes.payloadSchema(channel);
  }

  /** The payload an envelope carries. */
  message(e: Envelope): unknown {
    return this.envelopes.payload(e);
  }

  /** A payload as trace JSON. */
  payloadJSON(e: Envelope): unknown {
    return this.envelopes.payloadJSON(e);
  }

  /** The envelope with these bytes and count (interned). */
  fresh(bytes: Uint8Array, count: number): Envelope {
    return this.envelopes.fresh(bytes, count);
  }

  // ---------------------------------------------------------------- traces

  /** An event as trace JSON, given the state it was taken in (default: {@link event}). */
  describe(parent: WorldState, ev: EventRef = this.event): TraceEvent {
    switch (ev.kind) {
      case 'deliver':
      case 'duplicate':
      case 'drop': {
        const e = parent.net[ev.envelope]!;
        return { kind: ev.kind, from: e.from, to: e.to, msg: this.payloadJSON(e) };
      }
      case 'invoke': {
        const json = this.layout.clients!.request.toJSON({ id: 0, op: this.clients!.opOf(parent, ev.node, ev.arg as number) }) as { op: unknown };
        return { kind: 'invoke', node: ev.node, to: ev.envelope, op: json.op };
      }
      case 'action':
        return ev.arg === undefined ? { kind: 'action', node: ev.node, action: ev.action } : { kind: 'action', node: ev.node, action: ev.action, arg: ev.arg };
      case 'crash': {
        if (!isLostWriteStep(ev.arg)) return { kind: 'crash', node: ev.node };
        // The step whose write was lost, as its own trace event.
        const step = ev.arg.lostWrite === 'deliver'
          ? this.describe(parent, { kind: 'deliver', node: ev.node, envelope: ev.envelope, action: '', arg: undefined })
          : this.describe(parent, { kind: 'action', node: ev.node, envelope: 0, action: ev.action, arg: ev.arg.arg });
        return { kind: 'crash', node: ev.node, lostWrite: step as LostWriteTraceStep };
      }
      case 'restart':
        return ev.arg === undefined ? { kind: 'restart', node: ev.node } : { kind: 'restart', node: ev.node, damage: ev.arg as DamageKind };
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
      crashes: this.crashes.used(s),
      ...(this.crashes.diskFaults > 0 ? { diskFaults: this.crashes.diskFaultsUsed(s) } : {}),
      ...(this.options.clockError > 0 ? { clockOffsets: Array.from(s.offsets) } : {}),
      nodes: s.nodes.map((state, id) => ({
        id,
        name: this.nodeName(id),
        role: this.roleOfNode[id]!.name,
        crashed: s.crashed[id] !== 0,
        state: this.roleOfNode[id]!.def.state.toJSON(state),
      })),
      network: s.net.map((e) => ({ from: e.from, to: e.to, msg: this.payloadJSON(e), count: e.count })),
      ...(this.clients ? { history: this.clients.history.toJSON(s.history) as unknown[] } : {}),
    };
  }
}
