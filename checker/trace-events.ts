/**
 * Trace events (the JSON in trace files) as world events, and back. A trace names a delivery by
 * its sender, receiver and message, an action by its node, name and argument, an invocation by
 * its client, target and operation; {@link eventIn} finds the event of a state that it names,
 * and the reference semantics' `next` takes it. Replay, minimization and trace building all
 * step through here: no enumerate-and-compare.
 */
import { equalValues } from '../specs/core/collections.ts';
import type { TraceEvent } from '../traces/format.ts';
import type { World } from './world.ts';
import { CHECKED_DAMAGE, isLostWriteStep, LOST_WRITE, type LostWriteStep } from './crashes.ts';
import { REGISTER } from './clients.ts';
import type { DamageKind } from '../specs/core/protocol.ts';
import type { EventRef, WorldState } from './world-state.ts';

/** Deep equality of two JSON values, key order ignored. */
export function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJSON(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJSON((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function ref(kind: EventRef['kind'], node: number, envelope = 0, action = '', arg: unknown = undefined): EventRef {
  return { kind, node, envelope, action, arg };
}

/**
 * The event of state `s` that trace event `e` names, or a reason why there is none (in words,
 * completing "the event ..."). The event may still be disabled: `next` decides.
 */
export function eventIn(world: World, s: WorldState, e: TraceEvent): EventRef | string {
  const x = e as Record<string, unknown>;
  const isNode = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < world.nodeCount;
  switch (e.kind) {
    case 'deliver':
    case 'duplicate':
    case 'drop': {
      // The first deliverable envelope that carries this message on this link (FIFO links may
      // hold equal messages: only the head can go).
      let found = -1;
      for (let i = 0; i < s.net.length; i++) {
        const env = s.net[i]!;
        if (env.from !== x.from || env.to !== x.to || !sameJSON(world.payloadJSON(env), x.msg)) continue;
        if (found < 0) found = i;
        if (world.network.head(s.net, i)) return ref(e.kind, env.to, i);
      }
      return found < 0 ? 'is not enabled: no such message is in flight' : 'is not enabled: the message is not at the head of its link';
    }
    case 'action': {
      if (!isNode(x.node)) return `names node ${String(x.node)}, which does not exist`;
      const role = world.roleOfNode[x.node as number]!;
      if (!role.actions.some(([name]) => name === x.action)) return `is not enabled: role ${role.name} has no action "${String(x.action)}"`;
      return ref('action', x.node as number, 0, String(x.action), x.arg);
    }
    case 'invoke': {
      const clients = world.clients;
      if (!clients || !isNode(x.node) || !isNode(x.to)) return 'names a client or target that does not exist';
      // A restarted client's registration is the one operation it may invoke.
      if (clients.registering(s, x.node as number)) {
        return sameJSON(clients.layout.op.toJSON(clients.opOf(s, x.node as number, REGISTER)), x.op)
          ? ref('invoke', x.node as number, x.to as number, '', REGISTER)
          : `is not enabled: the client restarted and registers its session first, not ${JSON.stringify(x.op)}`;
      }
      const k = clients.ops.findIndex((op) => sameJSON(clients.layout.op.toJSON(op), x.op));
      if (k < 0) return `is not enabled: ${JSON.stringify(x.op)} is not an operation the clients invoke`;
      return ref('invoke', x.node as number, x.to as number, '', k);
    }
    case 'crash': {
      if (!isNode(x.node)) return `names node ${String(x.node)}, which does not exist`;
      if (x.lostWrite === undefined) return ref(e.kind, x.node as number);
      // A lost-write crash names its step: find that step's event, and carry it.
      const step = eventIn(world, s, x.lostWrite as TraceEvent);
      if (typeof step === 'string') return `names a lost write whose step ${step}`;
      if (step.node !== x.node) return 'names a lost write whose step is another node\'s';
      const lost: LostWriteStep = step.kind === 'deliver' ? { lostWrite: 'deliver' } : { lostWrite: 'action', arg: step.arg };
      return ref('crash', x.node as number, step.envelope, step.action, lost);
    }
    case 'restart':
      if (!isNode(x.node)) return `names node ${String(x.node)}, which does not exist`;
      if (x.damage !== undefined && !CHECKED_DAMAGE.includes(x.damage as DamageKind)) return `names damage ${JSON.stringify(x.damage)}, which the checker does not model (${CHECKED_DAMAGE.join(', ')})`;
      return ref('restart', x.node as number, 0, '', x.damage);
    case 'tick':
      return ref('tick', 0);
    case 'drift':
      return isNode(x.node) ? ref('drift', x.node as number, 0, '', x.by) : `names node ${String(x.node)}, which does not exist`;
    default:
      return `has an unknown kind '${String(e.kind)}'`;
  }
}

/**
 * The state trace event `e` leads to from `s`, or why it does not: not enabled, changes nothing,
 * or is cut by the in-flight bound.
 */
export function stepOf(world: World, s: WorldState, e: TraceEvent): WorldState | string {
  const ev = eventIn(world, s, e);
  if (typeof ev === 'string') return ev;
  const next = world.next(s, ev);
  if (next === s) return 'changes nothing';
  if (next === null) return whyNot(world, s, ev);
  return next;
}

/** Why event `e` has no successor in `s`. */
function whyNot(world: World, s: WorldState, e: EventRef): string {
  switch (e.kind) {
    case 'deliver':
    case 'duplicate':
    case 'drop': {
      const env = s.net[e.envelope]!;
      if (e.kind === 'duplicate' && !world.network.dup) return 'is not enabled: duplication is off under the trace\'s options';
      if (e.kind === 'drop' && !world.network.drop) return 'is not enabled: loss is off under the trace\'s options';
      if (s.crashed[env.to]) return `is not enabled: ${world.nodeName(env.to)} is crashed`;
      return 'leaves more messages in flight than the trace\'s in-flight bound allows';
    }
    case 'action': {
      if (s.crashed[e.node]) return `is not enabled: ${world.nodeName(e.node)} is crashed`;
      const [name, def] = world.roleOfNode[e.node]!.actions.find(([n]) => n === e.action)!;
      world.reading = s;
      const choices = world.runner.choices(e.node, s.nodes[e.node], name, def);
      if (!choices.some((c) => c === e.arg || equalValues(c, e.arg) || sameJSON(c, e.arg))) return `is not enabled: ${JSON.stringify(e.arg)} is not one of its choices`;
      if (!world.runner.enabled(e.node, s.nodes[e.node], name, def, e.arg)) return 'is not enabled: its guard is false';
      return 'leaves more messages in flight than the trace\'s in-flight bound allows';
    }
    case 'invoke':
      return 'is not enabled: the client is waiting for a reply or has no operations left';
    case 'crash':
      if (s.crashed[e.node]) return 'is not enabled: the node is already crashed';
      if (isLostWriteStep(e.arg)) {
        if (!world.crashes.canLoseWrite(s, e.node)) return 'is not enabled: no crash or disk fault left in the budget';
        return 'is not enabled: its step writes nothing durable, or its sends pass the in-flight bound';
      }
      return 'is not enabled: no crash left in the budget';
    case 'restart':
      if (world.clients && e.node >= world.clients.first && e.node < world.clients.end) {
        if (world.clients.restarts === 0) return 'is not enabled: client restarts are off under the trace\'s options';
        return 'is not enabled: no client restart left in the budget, or the client has not invoked yet or has no operations left';
      }
      if (!s.crashed[e.node]) return 'is not enabled: the node is not crashed';
      if (s.crashed[e.node] === LOST_WRITE) {
        return e.arg === 'lost-write' ? `is not enabled: ${world.nodeName(e.node)}'s onRecover refused a lost-write` : 'is not enabled: the node crashed after a lost write, so it restarts only with damage lost-write';
      }
      if (e.arg === 'lost-write') return 'is not enabled: the node did not crash after a lost write';
      if (!world.crashes.canDamage(s, e.node)) return 'is not enabled: no disk fault left in the budget';
      return `is not enabled: ${world.nodeName(e.node)}'s onRecover refused a ${String(e.arg)}`;
    case 'tick':
      return 'is not enabled: the clock is at its bound';
    case 'drift':
      return 'is not enabled: the clock offset would pass the clock-error bound';
  }
}
