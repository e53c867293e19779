/**
 * The fast successor layer: the same successors as the reference semantics (semantics.ts), in
 * the same order, computed the way the exhaustive explorer needs them at millions per second.
 *
 * - Handlers are pure unless they read the clock, so their outcomes are remembered per
 *   (envelope, receiver state) and per (node, state) for actions: the new state's component
 *   hash and bytes, and the interned envelopes it sent.
 * - A successor's fingerprint is the parent's with one node component swapped and the envelope
 *   records adjusted, so a successor already visited (about 85% of them) is recognized from its
 *   fingerprint before it is built, packed or even computed (`seen`).
 * - Networks after sends are remembered per (network, sends), so equal inputs give the same
 *   array, which packing and interning then recognize by identity.
 *
 * `fastPath: false` (CLI `--no-fast-path`) turns this layer off and explores with the reference
 * semantics instead; checker/differential.test.ts holds the two to the same states, fingerprints
 * and edges for every bundled spec under every network and fault option.
 */
import type { ActionDef } from '../specs/core/protocol.ts';
import { CHANNEL } from '../specs/core/layout.ts';
import type { NodeId } from '../specs/core/schema.ts';
import { Writer } from '../specs/core/bytes.ts';
import { REGISTER } from './clients.ts';
import { DRIFTS } from './clock.ts';
import { LOST_WRITE, MODELED_DAMAGE } from './crashes.ts';
import { compareRange, indexOfEnvelope } from './envelopes.ts';
import { finishSum, hash64 } from './fingerprint.ts';
import { HitTrial } from './hit-trial.ts';
import type { WorldCodec } from './world-codec.ts';
import { nodeSeed, type WorldFingerprints } from './world-fingerprint.ts';
import { UNCHANGED, withNode, type Envelope, type EventRef, type Outcome, type WorldState } from './world-state.ts';
import { Semantics, type SemanticsParts } from './semantics.ts';

/**
 * Asked with a successor's fingerprint before the successor is built: true when it is already
 * visited, so the successor is skipped (the caller counts it as generated). The event that led
 * to it is in {@link FastSuccessors.event} while it is asked.
 */
export type SeenTest = (hi: number, lo: number) => boolean;

/** An outcome with no effect at all: the event is enabled but the world stays as it was. */
const QUIET: Outcome = { after: undefined, changed: false, hHi: 0, hLo: 0, bytes: null, sends: [], all: [] };

/** One enabled local action of a node in a given state, with its outcome (null: not remembered). */
interface ActionEvent {
  readonly name: string;
  readonly arg: unknown;
  readonly action: ActionDef<any, any, any, any>;
  readonly outcome: Outcome | null;
}

/** How many networks `withSends` remembers results for (then it starts over). */
const SENDS_MEMO_MAX = 1 << 14;
/** How many outcomes to remember at most (then the memo stops growing). */
const MEMO_MAX = 1 << 19;
const NO_ARG: readonly unknown[] = [undefined];
const hash = hash64;

/** The parts of a world the fast layer works with (see world.ts). */
export interface FastParts extends SemanticsParts {
  readonly codec: WorldCodec;
  readonly fingerprints: WorldFingerprints;
}

export class FastSuccessors {
  /** The event that led to the successor being visited (or asked about); reused. */
  readonly event: EventRef = { kind: 'tick', node: 0, envelope: 0, action: '', arg: undefined };
  private readonly nodeCount: number;
  private readonly scratch = new Writer(256);
  private readonly lanes = new Int32Array(2);
  /** How many outcomes are remembered (on envelopes and in `actionMemo`). */
  private memoCount = 0;
  /** Networks after sends, by network and the sends' array (see `withSends`). */
  private readonly sendsMemo = new Map<Envelope[], Map<readonly Envelope[], Envelope[]>>();
  /** Per node: its enabled actions and their outcomes, by node state. */
  private readonly actionMemo: Map<unknown, ActionEvent[]>[] = [];
  /** Per node: the state last looked up in `actionMemo`, and its events. */
  private readonly lastActionState: unknown[] = [];
  private readonly lastActionEvents: (ActionEvent[] | null)[] = [];
  /** Per node: whether its `actionMemo` is worth keeping (a node whose states never repeat fills it for nothing). */
  private readonly actionTrials: HitTrial[] = [];
  /** The fingerprint of the parent being expanded, summed but not finished. */
  private parentHi = 0;
  private parentLo = 0;
  private historyHi = 0;
  private historyLo = 0;
  private parentInFlight = 0;
  /** The successor last built after a fingerprint check, and that fingerprint. */
  private fastState: WorldState | null = null;
  private readonly fastFp = new Uint32Array(2);
  /** `skip` computed the fingerprint of the successor about to be built. */
  private fastPending = false;
  /** Records `skipBag` changed (bytes, new count, bytes, new count, ...) and the net sum's change. */
  private readonly touched: (Uint8Array | number)[] = [];
  private recountHi = 0;
  private recountLo = 0;
  private readonly set: boolean;
  private readonly fifo: boolean;
  /** The reference semantics, for the rare events this layer does not speed up (lost writes). */
  private reference: Semantics | undefined;

  constructor(private readonly w: FastParts) {
    this.nodeCount = w.layout.nodeCount;
    this.set = w.network.mode === 'set';
    this.fifo = w.network.mode === 'fifo';
    for (let id = 0; id < this.nodeCount; id++) {
      this.actionMemo.push(new Map());
      this.lastActionState.push(undefined);
      this.lastActionEvents.push(null);
      this.actionTrials.push(new HitTrial());
    }
  }

  /** The fingerprint of `s` when it is the successor last built after a fingerprint check. */
  knownFingerprint(s: WorldState, out: Uint32Array): boolean {
    if (s !== this.fastState) return false;
    out[0] = this.fastFp[0]!;
    out[1] = this.fastFp[1]!;
    return true;
  }

  /**
   * Calls `visit` with each successor of `s` that differs from `s`, and {@link event}
   * describing the event that led to it. `visit` returning true stops the enumeration. Returns
   * the number of enabled protocol events (deliveries, actions, invocations), self-loops
   * included, so callers can detect deadlock. With `seen`, successors whose fingerprint is
   * already visited are skipped before they are built (set and bag networks; `s` decoded).
   */
  successors(s: WorldState, visit: (next: WorldState) => boolean | void, seenTest?: SeenTest): number {
    const { layout, network, crashes, clock, clients, runner } = this.w;
    const ev = this.event;
    let enabled = 0;
    this.w.reading = s;
    const seen = !this.fifo && seenTest !== undefined && this.enterParent(s) ? seenTest : undefined;

    // Deliveries (and their fault twins: duplicate, drop).
    for (let i = 0; i < s.net.length; i++) {
      const e = s.net[i]!;
      if (this.fifo && !network.head(s.net, i)) continue;
      if (!s.crashed[e.to]) {
        enabled++;
        ev.kind = 'deliver';
        ev.node = e.to;
        ev.envelope = i;
        if (this.set) {
          // Under the set network a message stays deliverable forever, and most deliveries
          // change nothing by then: outcomes are remembered per (envelope, receiver state).
          const o = e.channel === CHANNEL.message ? this.deliveryOutcome(s, e) : null;
          if (o === QUIET || (o !== null && seen !== undefined && this.skip(s, e.to, o, seen))) continue;
          ev.kind = 'deliver';
          ev.node = e.to;
          ev.envelope = i;
          const next = o === null ? this.deliver(s, i, false) : this.successorOf(s, e.to, o);
          if (next && visit(next)) return enabled;
          continue;
        }
        // Bag and fifo: a delivery consumes one copy; its outcome (remembered, bag) gives the
        // successor's fingerprint, so a visited one is skipped before the handler runs again.
        const o = seen !== undefined && e.channel === CHANNEL.message ? this.deliveryOutcome(s, e) : null;
        ev.kind = 'deliver';
        ev.node = e.to;
        ev.envelope = i;
        if (o === null || !this.skipBag(s, e.to, o, i, seen!)) {
          const next = this.built(this.deliver(s, i, true));
          if (next && visit(next)) return enabled;
        }
        if (network.dup) {
          ev.kind = 'duplicate';
          ev.node = e.to;
          ev.envelope = i;
          if (o === null || !this.skipBag(s, e.to, o, -1, seen!)) {
            const twin = this.built(this.deliver(s, i, false));
            if (twin && visit(twin)) return enabled;
          }
        }
      }
      if (network.drop) {
        ev.kind = 'drop';
        ev.node = e.to;
        ev.envelope = i;
        if (seen === undefined || !this.skipBag(s, e.to, QUIET, i, seen)) {
          const next = this.built({ ...s, net: network.consume(s.net, i) });
          if (next && visit(next)) return enabled;
        }
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
        ev.kind = 'action';
        ev.node = id;
        ev.action = x.name;
        ev.arg = x.arg;
        if (o !== null && (o === QUIET || (seen !== undefined && (this.set ? this.skip(s, id, o, seen) : this.skipBag(s, id, o, -1, seen))))) continue;
        ev.kind = 'action';
        ev.node = id;
        ev.action = x.name;
        ev.arg = x.arg;
        let next: WorldState | null;
        if (o !== null && this.set) {
          next = this.successorOf(s, id, o);
        } else {
          // Not remembered, or the bag (sends add copies, as `apply` does): run `do` again.
          const after = runner.action(id, s.nodes[id], x.name, x.action, x.arg);
          next = this.built(this.apply(s, id, after));
        }
        if (next && visit(next)) return enabled;
      }
    }

    // Client invocations: an idle client sends its next operation to a node of the target role.
    if (clients) {
      const target = clients.layout.target;
      for (let c = clients.first; c < clients.end; c++) {
        if (!clients.idle(s, c)) continue;
        const registering = clients.registering(s, c);
        for (let k = registering ? REGISTER : 0; k < (registering ? REGISTER + 1 : clients.ops.length); k++) {
          for (let to = target.base; to < target.base + target.count; to++) {
            enabled++;
            ev.kind = 'invoke';
            ev.node = c;
            ev.envelope = to;
            ev.arg = k;
            if (visit(clients.invoke(s, c, to, k, this.w.envelopes, network))) return enabled;
          }
        }
      }
    }

    // Crashes and restarts (none to look for unless the run allows crashes).
    if (crashes.budget === 0) return this.clientRestarts(s, visit, enabled);
    for (let id = 0; id < this.nodeCount; id++) {
      if (!crashes.canCrash(s, id)) continue;
      ev.kind = 'crash';
      ev.node = id;
      ev.arg = undefined;
      if (visit(crashes.crash(s, id))) return enabled;
    }
    if (crashes.diskFaults > 0) {
      // Lost writes (rare: only while a disk fault is left), through the reference semantics.
      this.reference ??= new Semantics(this.w);
      for (let id = 0; id < this.nodeCount; id++) {
        if (!crashes.canLoseWrite(s, id)) continue;
        for (const x of this.reference.lostWriteCrashes(s, id)) {
          const next = this.reference.next(s, x);
          if (next === null) continue;
          ev.kind = 'crash';
          ev.node = id;
          ev.envelope = x.envelope;
          ev.action = x.action;
          ev.arg = x.arg;
          if (visit(next)) return enabled;
        }
      }
    }
    for (let id = 0; id < this.nodeCount; id++) {
      if (!s.crashed[id]) continue;
      ev.kind = 'restart';
      ev.node = id;
      if (s.crashed[id] === LOST_WRITE) {
        const next = crashes.restartAfterLostWrite(s, id);
        ev.arg = 'lost-write';
        if (next !== null && visit(next)) return enabled;
        continue;
      }
      ev.arg = undefined;
      if (visit(crashes.restart(s, id)!)) return enabled;
      if (!crashes.canDamage(s, id)) continue;
      for (const kind of MODELED_DAMAGE) {
        const next = crashes.restartDamaged(s, id, kind);
        if (next === null) continue;
        ev.kind = 'restart';
        ev.node = id;
        ev.arg = kind;
        if (visit(next)) return enabled;
      }
    }

    return this.clientRestarts(s, visit, enabled);
  }

  /** Client restarts (`clientRestarts`), then the clock's successors. */
  private clientRestarts(s: WorldState, visit: (next: WorldState) => boolean | void, enabled: number): number {
    const clients = this.w.clients;
    if (clients !== null && clients.restarts > 0) {
      const ev = this.event;
      for (let c = clients.first; c < clients.end; c++) {
        if (!clients.canRestart(s, c)) continue;
        ev.kind = 'restart';
        ev.node = c;
        ev.arg = undefined;
        if (visit(clients.restart(s, c))) return enabled;
      }
    }
    return this.clockEvents(s, visit, enabled);
  }

  /** The clock's successors of `s`: true time advances; node clocks drift within the error bound. */
  private clockEvents(s: WorldState, visit: (next: WorldState) => boolean | void, enabled: number): number {
    const { clock } = this.w;
    const ev = this.event;
    if (clock.canTick(s)) {
      ev.kind = 'tick';
      if (visit(clock.tick(s))) return enabled;
    }
    if (clock.clockError > 0) {
      for (let id = 0; id < this.nodeCount; id++) {
        for (const by of DRIFTS) {
          if (!clock.canDrift(s, id, by)) continue;
          ev.kind = 'drift';
          ev.node = id;
          ev.arg = by;
          if (visit(clock.drift(s, id, by))) return enabled;
        }
      }
    }
    return enabled;
  }

  /** Envelope `i` reaches its receiver (consumed from a bag or FIFO network, or left in place). */
  private deliver(s: WorldState, i: number, consume: boolean): WorldState | null {
    const { runner, envelopes, clients } = this.w;
    const e = s.net[i]!;
    const id = e.to;
    const msg = envelopes.payload(e);
    let after: unknown;
    let history = s.history;
    if (e.channel === CHANNEL.message) {
      after = runner.message(id, s.nodes[id], e.from, msg);
    } else if (e.channel === CHANNEL.request) {
      const req = msg as { id: number; op: unknown };
      after = runner.request(id, s.nodes[id], e.from, req.id, req.op);
    } else {
      // A reply reaches its client: it completes the pending operation (stale replies are ignored).
      runner.sendCount = 0;
      runner.replyCount = 0;
      const r = clients!.reply(s, id, msg as { id: number; result: unknown });
      after = r.after;
      history = r.history;
    }
    const base = history === s.history ? s : { ...s, history };
    const changed = history !== s.history;
    if (!consume) return this.apply(base, id, after, changed);
    return this.apply({ ...base, net: this.w.network.consume(s.net, i) }, id, after, true);
  }

  /** The outcome of delivering protocol message `e` in `s` (remembered), or null when the handler read the clock or replied. */
  private deliveryOutcome(s: WorldState, e: Envelope): Outcome | null {
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
    const runner = this.w.runner;
    const after = runner.message(id, state, e.from, this.w.envelopes.payload(e));
    if (runner.clockRead || runner.replyCount > 0) return null;
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
    const trial = this.actionTrials[id]!;
    const known = trial.on ? memo.get(state) : undefined;
    if (trial.on && !trial.record(known !== undefined)) memo.clear();
    if (known !== undefined) {
      this.lastActionState[id] = state;
      this.lastActionEvents[id] = known;
      return known;
    }
    const { runner, layout } = this.w;
    const ev = this.event;
    const events: ActionEvent[] = [];
    const actions = layout.roleOfNode[id]!.actions;
    for (let a = 0; a < actions.length; a++) {
      const [name, action] = actions[a]!;
      const args = action.choices ? runner.choices(id, state, name, action) : NO_ARG;
      for (let k = 0; k < args.length; k++) {
        const arg = args[k];
        if (action.when && !runner.enabled(id, state, name, action, arg)) continue;
        if (this.fifo) {
          events.push({ name, arg, action, outcome: null });
          continue;
        }
        // Said before `do` runs, so an error in it is reported with this event.
        ev.kind = 'action';
        ev.node = id;
        ev.action = name;
        ev.arg = arg;
        const after = runner.action(id, state, name, action, arg);
        const outcome = runner.clockRead || runner.replyCount > 0 ? null : this.outcome(id, state, after);
        events.push({ name, arg, action, outcome });
      }
    }
    if (trial.on && this.memoCount < MEMO_MAX) {
      memo.set(state, events);
      this.memoCount += events.length + 1;
    }
    this.lastActionState[id] = state;
    this.lastActionEvents[id] = events;
    return events;
  }

  /** The outcome of the handler that just ran at node `id` (its sends are in the runner). */
  private outcome(id: NodeId, state: unknown, after: unknown): Outcome {
    const { runner, envelopes, codec } = this.w;
    if (after === state && runner.sendCount === 0) return QUIET;
    let hHi = 0;
    let hLo = 0;
    let bytes: Uint8Array | null = null;
    if (after !== state) {
      const sw = this.scratch.reset();
      codec.encodeNodeState(sw, id, after);
      hash(sw.buf, 0, sw.pos, nodeSeed(id, 0), this.lanes);
      hHi = this.lanes[0]!;
      hLo = this.lanes[1]!;
      bytes = sw.buf.slice(0, sw.pos);
    }
    // The set network sends a message sent twice in one step once; the bag, twice.
    const sends: Envelope[] = [];
    const all: Envelope[] = new Array(runner.sendCount);
    for (let k = 0; k < runner.sendCount; k++) {
      const len = envelopes.encodeMessage(id, runner.sendTo[k]!, runner.sendMsg[k]);
      const e = envelopes.intern(envelopes.writer.buf, 0, len, 1);
      all[k] = e;
      if (indexOfEnvelope(sends, e, sends.length) < 0) sends.push(e);
    }
    return { after, changed: after !== state, hHi, hLo, bytes, sends, all: all.length === sends.length ? sends : all };
  }

  /**
   * Prepares the fingerprint checks for a parent whose component hashes are all known (decoded
   * from bytes, or expanded from interned components): its summed fingerprint lanes and load.
   * False when `s` is not such a world.
   */
  private enterParent(s: WorldState): boolean {
    if (s.nodeHi === null || s.net !== s.netBase) return false;
    for (let id = 0; id < this.nodeCount; id++) if (s.nodeBytes[id] !== UNCHANGED) return false;
    const f = this.w.fingerprints;
    const c = f.clockLanes(s);
    this.parentHi = (c[0]! + s.nodeSumHi + s.netSumHi) | 0;
    this.parentLo = (c[1]! + s.nodeSumLo + s.netSumLo) | 0;
    const h = f.historyLanes(s);
    this.historyHi = h[0]!;
    this.historyLo = h[1]!;
    this.parentInFlight = this.inFlight(s.net);
    return true;
  }

  /**
   * Whether the successor of `s` where node `id` had outcome `o` (set network) is to be
   * skipped: it is no step at all, it passes the in-flight bound, or `seen` knows its
   * fingerprint: the parent's with node `id`'s component replaced and the new envelopes added.
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
    if (this.parentInFlight + added > this.w.maxInFlight) return true;
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
    // A loss (QUIET with a consumed copy) runs no handler: the in-flight bound does not apply.
    if (o !== QUIET && this.parentInFlight + all.length - (consumed < 0 ? 0 : 1) > this.w.maxInFlight) return true;
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
    if (this.inFlight(net) > this.w.maxInFlight) return null;
    return this.built(o.changed ? withNode(s, id, o.after, net, o.bytes) : { ...s, net });
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
      out = this.w.network.add(out, e.bytes, e.bytes.length, e.from, e.to, out === net);
    }
    if (this.sendsMemo.size >= SENDS_MEMO_MAX) this.sendsMemo.clear();
    if (bySends === undefined) this.sendsMemo.set(net, (bySends = new Map()));
    bySends.set(sends, out);
    return out;
  }

  /** The successor after node `id` moved to `after` and sent what the runner holds; null if nothing changed. */
  private apply(s: WorldState, id: NodeId, after: unknown, changed = false): WorldState | null {
    const runner = this.w.runner;
    const nodeChanged = after !== s.nodes[id];
    if (!nodeChanged && runner.sendCount === 0 && runner.replyCount === 0 && !changed) return null;
    let net = s.net;
    if (runner.sendCount > 0 || runner.replyCount > 0) {
      net = this.addSends(net, id);
      if (net === s.net && !nodeChanged && !changed) return null;
    }
    if (this.inFlight(net) > this.w.maxInFlight) return null;
    if (!nodeChanged) return net === s.net ? s : { ...s, net };
    return withNode(s, id, after, net);
  }

  private inFlight(net: Envelope[]): number {
    if (this.w.maxInFlight === Number.POSITIVE_INFINITY) return 0;
    return this.w.network.inFlight(net);
  }

  /** `net` with the runner's sends and replies added. */
  private addSends(net: Envelope[], from: NodeId): Envelope[] {
    const { runner, envelopes, network } = this.w;
    let out = net;
    for (let k = 0; k < runner.sendCount; k++) {
      const to = runner.sendTo[k]!;
      const len = envelopes.encodeMessage(from, to, runner.sendMsg[k]);
      out = network.add(out, envelopes.writer.buf, len, from, to, out === net);
    }
    for (let k = 0; k < runner.replyCount; k++) {
      const client = runner.replyClient[k]!;
      const len = envelopes.encodeReply(from, client, runner.replyId[k]!, runner.replyResult[k]);
      out = network.add(out, envelopes.writer.buf, len, from, client, out === net);
    }
    return out;
  }
}
