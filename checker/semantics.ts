/**
 * The reference semantics of a world: `events(s)`, every event enabled in a state, and
 * `next(s, e)`, the state it leads to. Written for clarity, with no caches and no shortcuts:
 * each call runs the spec's handler and builds the successor from the rules of the network,
 * the crashes, the clock and the clients. The fast successor layer (fast-successors.ts) must
 * agree with it edge for edge (checker/differential.test.ts); replay, trace building and
 * minimization use it; `--no-fast-path` explores with it.
 *
 * Events, in the order they are enumerated:
 * - `deliver` of each deliverable envelope (the network decides: every envelope on set and bag,
 *   link heads on fifo) to a receiver that is not crashed: `onMessage`, `onRequest`, or a reply
 *   completing its client's operation. Set: the message stays; bag and fifo: one copy goes.
 *   With `dup`, `duplicate` delivers and leaves the copy; with `drop`, `drop` loses it.
 * - `action`: each enabled instance (action, choice) of each node that is not crashed.
 * - `invoke`: each idle client, each operation, each node of the target role (a client that
 *   restarted and must register first: its registration, `arg` REGISTER, at each such node).
 * - `crash` of each live protocol node while the budget lasts; `restart` of each crashed node,
 *   then, while the disk-fault budget lasts, its damaged restarts (`arg`: the damage kind) that
 *   its role's `onRecover` accepts; then `restart` of each client that may restart (clients.ts).
 * - `tick` of true time up to its bound; `drift` of each node's clock offset by ±1.
 *
 * A step is no step when the handler returned its state (the same object) and sent nothing new,
 * and the network and history are unchanged: `next` then returns `s` itself. A step that runs a
 * handler (a delivery, a duplicate, an action) and leaves more than `maxInFlight` messages in
 * flight is not explored (`next` returns null); the bound is a state constraint on what
 * handlers do, so a loss, a client's invocation, a crash or a tick is always allowed.
 */
import { equalValues } from '../specs/core/collections.ts';
import { CHANNEL, type Layout } from '../specs/core/layout.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { StepRunner } from '../specs/core/step.ts';
import { REGISTER, type Clients } from './clients.ts';
import { DRIFTS, type Clock } from './clock.ts';
import { isLostWriteStep, LOST_WRITE, MODELED_DAMAGE, type Crashes, type LostWriteStep } from './crashes.ts';
import type { DamageKind } from '../specs/core/protocol.ts';
import type { Envelopes } from './envelopes.ts';
import type { Network } from './network.ts';
import { sameJSON } from './trace-events.ts';
import { withNode, type Envelope, type EventRef, type HistoryEvent, type WorldState } from './world-state.ts';

/** The parts of a world the semantics reads (see world.ts). */
export interface SemanticsParts {
  readonly layout: Layout;
  readonly runner: StepRunner;
  readonly envelopes: Envelopes;
  readonly network: Network;
  readonly crashes: Crashes;
  readonly clock: Clock;
  readonly clients: Clients | null;
  readonly maxInFlight: number;
  /** Set before a handler runs: the state whose clock it reads. */
  reading: WorldState | null;
}

function event(kind: EventRef['kind'], node: NodeId, envelope = 0, action = '', arg: unknown = undefined): EventRef {
  return { kind, node, envelope, action, arg };
}

export class Semantics {
  constructor(private readonly w: SemanticsParts) {}

  /** Every event enabled in `s`, in enumeration order. */
  events(s: WorldState): EventRef[] {
    const { layout, runner, network, crashes, clock, clients } = this.w;
    const out: EventRef[] = [];
    for (let i = 0; i < s.net.length; i++) {
      const e = s.net[i]!;
      if (!network.head(s.net, i)) continue;
      if (!s.crashed[e.to]) {
        out.push(event('deliver', e.to, i));
        if (network.dup) out.push(event('duplicate', e.to, i));
      }
      if (network.drop) out.push(event('drop', e.to, i));
    }
    for (let id = 0; id < layout.nodeCount; id++) {
      if (s.crashed[id]) continue;
      this.w.reading = s;
      for (const [name, action] of layout.roleOfNode[id]!.actions) {
        for (const arg of runner.choices(id, s.nodes[id], name, action)) {
          if (runner.enabled(id, s.nodes[id], name, action, arg)) out.push(event('action', id, 0, name, arg));
        }
      }
    }
    if (clients) {
      const target = clients.layout.target;
      for (let c = clients.first; c < clients.end; c++) {
        if (!clients.idle(s, c)) continue;
        if (clients.registering(s, c)) {
          for (let to = target.base; to < target.base + target.count; to++) out.push(event('invoke', c, to, '', REGISTER));
          continue;
        }
        for (let k = 0; k < clients.ops.length; k++) {
          for (let to = target.base; to < target.base + target.count; to++) out.push(event('invoke', c, to, '', k));
        }
      }
    }
    for (let id = 0; id < layout.nodeCount; id++) if (crashes.canCrash(s, id)) out.push(event('crash', id));
    for (let id = 0; id < layout.nodeCount; id++) if (crashes.canLoseWrite(s, id)) out.push(...this.lostWriteCrashes(s, id));
    for (let id = 0; id < layout.nodeCount; id++) {
      if (!s.crashed[id]) continue;
      if (s.crashed[id] === LOST_WRITE) {
        if (crashes.restartAfterLostWrite(s, id) !== null) out.push(event('restart', id, 0, '', 'lost-write'));
        continue;
      }
      out.push(event('restart', id));
      if (!crashes.canDamage(s, id)) continue;
      for (const kind of MODELED_DAMAGE) if (crashes.restartDamaged(s, id, kind) !== null) out.push(event('restart', id, 0, '', kind));
    }
    if (clients) for (let c = clients.first; c < clients.end; c++) if (clients.canRestart(s, c)) out.push(event('restart', c));
    if (clock.canTick(s)) out.push(event('tick', 0));
    for (let id = 0; id < layout.nodeCount; id++) {
      for (const by of DRIFTS) if (clock.canDrift(s, id, by)) out.push(event('drift', id, 0, '', by));
    }
    return out;
  }

  /**
   * The lost-write crashes of node `id` in `s` (checker/crashes.ts): each delivery to it and each
   * of its enabled actions whose step changes a durable field, as a `crash` event carrying the step.
   */
  lostWriteCrashes(s: WorldState, id: NodeId): EventRef[] {
    const { layout, runner, network } = this.w;
    const out: EventRef[] = [];
    for (let i = 0; i < s.net.length; i++) {
      const e = s.net[i]!;
      if (e.to !== id || !network.head(s.net, i)) continue;
      const x = event('crash', id, i, '', { lostWrite: 'deliver' } satisfies LostWriteStep);
      if (this.next(s, x) !== null) out.push(x);
    }
    this.w.reading = s;
    for (const [name, action] of layout.roleOfNode[id]!.actions) {
      for (const arg of runner.choices(id, s.nodes[id], name, action)) {
        this.w.reading = s;
        if (!runner.enabled(id, s.nodes[id], name, action, arg)) continue;
        const x = event('crash', id, 0, name, { lostWrite: 'action', arg } satisfies LostWriteStep);
        if (this.next(s, x) !== null) out.push(x);
      }
    }
    return out;
  }

  /**
   * Whether `e` counts as a protocol event for deadlock detection: a delivery (duplicates and
   * drops are faults), an action, or a client invocation.
   */
  static isProtocolEvent(e: EventRef): boolean {
    return e.kind === 'deliver' || e.kind === 'action' || e.kind === 'invoke';
  }

  /**
   * The state `e` leads to from `s`: `s` itself when the event changes nothing, null when it is
   * not enabled or its sends pass the in-flight bound.
   */
  next(s: WorldState, e: EventRef): WorldState | null {
    const { layout, runner, network, crashes, clock, clients } = this.w;
    switch (e.kind) {
      case 'deliver':
      case 'duplicate': {
        const env = s.net[e.envelope];
        if (!env || !network.head(s.net, e.envelope) || s.crashed[env.to]) return null;
        if (e.kind === 'duplicate' && !network.dup) return null;
        const consumed = e.kind === 'deliver' ? network.afterDelivery(s.net, e.envelope) : s.net;
        return this.receive(s, env, consumed);
      }
      case 'drop': {
        if (!network.drop || !s.net[e.envelope] || !network.head(s.net, e.envelope)) return null;
        return { ...s, net: network.consume(s.net, e.envelope) };
      }
      case 'action': {
        const id = e.node;
        if (s.crashed[id] || layout.isClient(id)) return null;
        const found = layout.roleOfNode[id]!.actions.find(([name]) => name === e.action);
        if (!found) return null;
        const [name, action] = found;
        const state = s.nodes[id];
        this.w.reading = s;
        if (!isChoice(runner.choices(id, state, name, action), e.arg)) return null;
        if (!runner.enabled(id, state, name, action, e.arg)) return null;
        const after = runner.action(id, state, name, action, e.arg);
        return this.settle(s, id, after, s.net, s.history);
      }
      case 'invoke': {
        const c = e.node;
        if (!clients || c < clients.first || c >= clients.end || !clients.idle(s, c)) return null;
        const target = clients.layout.target;
        const k = e.arg as number;
        if (e.envelope < target.base || e.envelope >= target.base + target.count) return null;
        if (clients.registering(s, c) ? k !== REGISTER : !(k >= 0 && k < clients.ops.length)) return null;
        return clients.invoke(s, c, e.envelope, k, this.w.envelopes, network);
      }
      case 'crash': {
        if (!isLostWriteStep(e.arg)) return crashes.canCrash(s, e.node) ? crashes.crash(s, e.node) : null;
        // A step of the node whose write is lost, then its crash (checker/crashes.ts).
        if (!crashes.canLoseWrite(s, e.node)) return null;
        const step = e.arg.lostWrite === 'deliver'
          ? (s.net[e.envelope]?.to === e.node ? this.next(s, event('deliver', e.node, e.envelope)) : null)
          : this.next(s, event('action', e.node, 0, e.action, e.arg.arg));
        return step === null || step === s ? null : crashes.loseWrite(s, step, e.node);
      }
      case 'restart':
        if (clients && e.node >= clients.first && e.node < clients.end) return e.arg === undefined && clients.canRestart(s, e.node) ? clients.restart(s, e.node) : null;
        if (!s.crashed[e.node]) return null;
        if (e.arg === 'lost-write') return crashes.restartAfterLostWrite(s, e.node);
        return e.arg === undefined ? crashes.restart(s, e.node) : crashes.restartDamaged(s, e.node, e.arg as DamageKind);
      case 'tick':
        return clock.canTick(s) ? clock.tick(s) : null;
      case 'drift':
        return clock.canDrift(s, e.node, e.arg as number) ? clock.drift(s, e.node, e.arg as number) : null;
    }
  }

  /** Envelope `env` reaches its receiver; `net` is the network after the delivery took it (or not). */
  private receive(s: WorldState, env: Envelope, net: Envelope[]): WorldState | null {
    const { runner, envelopes, clients } = this.w;
    const id = env.to;
    const payload = envelopes.payload(env);
    this.w.reading = s;
    switch (env.channel) {
      case CHANNEL.message:
        return this.settle(s, id, runner.message(id, s.nodes[id], env.from, payload), net, s.history);
      case CHANNEL.request: {
        const req = payload as { id: number; op: unknown };
        return this.settle(s, id, runner.request(id, s.nodes[id], env.from, req.id, req.op), net, s.history);
      }
      default: {
        runner.sendCount = 0;
        runner.replyCount = 0;
        const { after, history } = clients!.reply(s, id, payload as { id: number; result: unknown });
        return this.settle(s, id, after, net, history);
      }
    }
  }

  /**
   * The successor after node `id` moved to `after` and sent what the runner holds, from network
   * `net` and history `history`: `s` itself when nothing changed.
   */
  private settle(s: WorldState, id: NodeId, after: unknown, net: Envelope[], history: readonly HistoryEvent[]): WorldState | null {
    const { runner, envelopes, network } = this.w;
    let out = net;
    for (let k = 0; k < runner.sendCount; k++) {
      const len = envelopes.encodeMessage(id, runner.sendTo[k]!, runner.sendMsg[k]);
      out = network.add(out, envelopes.writer.buf, len, id, runner.sendTo[k]!, true);
    }
    for (let k = 0; k < runner.replyCount; k++) {
      const len = envelopes.encodeReply(id, runner.replyClient[k]!, runner.replyId[k]!, runner.replyResult[k]);
      out = network.add(out, envelopes.writer.buf, len, id, runner.replyClient[k]!, true);
    }
    if (after === s.nodes[id] && out === s.net && history === s.history) return s;
    if (network.inFlight(out) > this.w.maxInFlight) return null;
    const moved = after === s.nodes[id] ? { ...s, net: out } : withNode(s, id, after, out);
    return history === s.history ? moved : { ...moved, history };
  }
}

/**
 * Whether `arg` is one of an action's choices: the very value `events` gave (choices are
 * usually the same objects from call to call, so this is a scan for identity), else an equal
 * plain value, e.g. a trace's argument read back from JSON. No text is built: comparing JSON
 * strings, each event against every choice before it, was two thirds of a `--no-fast-path` run
 * of paxos-commit-tla (dozens of object choices per action).
 */
function isChoice(choices: readonly unknown[], arg: unknown): boolean {
  return choices.includes(arg) || choices.some((c) => equalValues(c, arg) || sameJSON(c, arg));
}
