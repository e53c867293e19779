/**
 * The clients of a protocol, as the world runs them: K built-in nodes of role `client`, each
 * issuing up to `opsPerClient` operations, one at a time, to any node of the target role. The
 * request and the reply travel through the modeled network; the history records each
 * invocation and return in the order they happened, which is the real-time order history
 * checkers need. One object owns all of these rules.
 *
 * Client restarts (`clientRestarts`, CLI `--client-restarts N`): up to N times in a run, a client
 * that has invoked an operation and has operations left restarts with the same node id and no
 * memory (a `restart` event of the client). The operation it waited on stays pending in the history
 * forever (it may or may not take effect: an indeterminate outcome, as Jepsen records a crashed
 * client's call), and a late reply to it is ignored. Its request ids start over: where the spec
 * declares sessions (`clients.session`), the new incarnation first registers (`register(nonce)`,
 * the nonce being its restart count, under {@link SESSION_REGISTER_ID}; retried at any server until
 * answered) and numbers its requests from `incarnation · SESSION_IDS + 1`, as the executor's client
 * library does; without sessions it numbers them from 0 again, which servers that remember request
 * ids take for duplicates. Registrations are not operations of the history. The operations of all
 * incarnations count against `opsPerClient`.
 */
import type { ClientsLayout, ClientState, Layout } from '../specs/core/layout.ts';
import { SESSION_IDS, SESSION_REGISTER_ID, type ClientsDef, type Params } from '../specs/core/protocol.ts';
import { t, type NodeId, type Schema } from '../specs/core/schema.ts';
import type { Envelopes } from './envelopes.ts';
import type { Network } from './network.ts';
import type { HistoryEvent, WorldState } from './world-state.ts';

/** The `invoke` event's operation index for a restarted client's session registration. */
export const REGISTER = -1;

export class Clients {
  readonly layout: ClientsLayout;
  /** How many client restarts a run may have in all (0: the client state has no restart fields). */
  readonly restarts: number;
  /** The spec's sessions (`clients.session`), if it declares them. */
  readonly session: ClientsDef<unknown, unknown, Params>['session'];
  /** The operations a client may invoke (the model tries each). */
  readonly ops: readonly unknown[];
  readonly opsPerClient: number;
  readonly history: Schema<readonly HistoryEvent[]>;

  constructor(layout: Layout, params: Params, restarts = 0) {
    const def = layout.protocol.clients!;
    this.layout = layout.clients!;
    this.restarts = restarts;
    this.session = def.session;
    this.ops = def.ops(params);
    this.opsPerClient = typeof def.opsPerClient === 'function' ? def.opsPerClient(params) : def.opsPerClient;
    this.history = t.array(t.union('kind', {
      invoke: { client: t.node('client'), id: t.u32, op: def.op },
      return: { client: t.node('client'), id: t.u32, result: def.result },
    })) as Schema<readonly HistoryEvent[]>;
  }

  /** The client role's node ids: `first .. end - 1`. */
  get first(): NodeId {
    return this.layout.role.base;
  }

  get end(): NodeId {
    return this.layout.role.base + this.layout.role.count;
  }

  /** Whether client `c` can invoke its next operation in `s`: idle, with operations left. */
  idle(s: WorldState, c: NodeId): boolean {
    const cs = s.nodes[c] as ClientState;
    return cs.pending === null && cs.next < this.opsPerClient;
  }

  /** Whether idle client `c` must register a session before its next operation (it restarted). */
  registering(s: WorldState, c: NodeId): boolean {
    return (s.nodes[c] as ClientState).registering === true;
  }

  /** The operation an `invoke` of client `c` with index `k` sends in `s` (`k` may be {@link REGISTER}). */
  opOf(s: WorldState, c: NodeId, k: number): unknown {
    return k === REGISTER ? this.session!.register((s.nodes[c] as ClientState).restarts!) : this.ops[k];
  }

  /**
   * Client `c` invokes operation `ops[k]` at node `to`: the request goes out, the history records
   * it. `k` = {@link REGISTER}: a restarted client's registration, which the history does not record.
   */
  invoke(s: WorldState, c: NodeId, to: NodeId, k: number, envelopes: Envelopes, network: Network): WorldState {
    const cs = s.nodes[c] as ClientState;
    const register = k === REGISTER;
    const id = register ? SESSION_REGISTER_ID : this.restarts > 0 ? cs.seq! : cs.next;
    const op = this.opOf(s, c, k);
    const len = envelopes.encodeRequest(c, to, id, op);
    const net = network.add(s.net, envelopes.writer.buf, len, c, to, true);
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    const pending = { id, op };
    nodes[c] = this.restarts === 0
      ? { next: id + 1, pending } satisfies ClientState
      : { next: register ? cs.next : cs.next + 1, pending, seq: register ? cs.seq! : id + 1, restarts: cs.restarts!, registering: cs.registering! } satisfies ClientState;
    nodeBytes[c] = null;
    return register ? { ...s, nodes, nodeBytes, net } : { ...s, nodes, nodeBytes, net, history: [...s.history, { kind: 'invoke', client: c, id, op }] };
  }

  /**
   * A reply reaches client `c` in `s`: it completes the pending operation, or is ignored when
   * stale. Returns the client's next state and the history (both unchanged when ignored). The
   * answer to a registration starts the incarnation's numbering, or, when it is not the
   * registration of this nonce (a server that does not lead), leaves the client to register again.
   */
  reply(s: WorldState, c: NodeId, reply: { id: number; result: unknown }): { after: unknown; history: readonly HistoryEvent[] } {
    const cs = s.nodes[c] as ClientState;
    if (cs.pending === null || cs.pending.id !== reply.id) return { after: cs, history: s.history };
    if (cs.registering) {
      const incarnation = this.session!.incarnation(reply.result, cs.restarts!);
      const after: ClientState = incarnation === null
        ? { ...cs, pending: null }
        : { next: cs.next, pending: null, seq: incarnation * SESSION_IDS + 1, restarts: cs.restarts!, registering: false };
      return { after, history: s.history };
    }
    // Without restarts the state keeps its two fields (the hot path's fixed shape).
    const after: ClientState = this.restarts === 0 ? { next: cs.next, pending: null } : { ...cs, pending: null };
    return { after, history: [...s.history, { kind: 'return', client: c, id: reply.id, result: reply.result }] };
  }

  /** Client restarts used in `s` (each client counts its own). */
  restartsUsed(s: WorldState): number {
    let used = 0;
    for (let c = this.first; c < this.end; c++) used += (s.nodes[c] as ClientState).restarts ?? 0;
    return used;
  }

  /**
   * Whether client `c` may restart in `s`: a restart is left in the run, and the client has
   * invoked an operation and has operations left (a restart before its first call, or after its
   * last, changes nothing the history could show).
   */
  canRestart(s: WorldState, c: NodeId): boolean {
    if (this.restarts === 0) return false;
    const cs = s.nodes[c] as ClientState;
    return cs.next > 0 && cs.next < this.opsPerClient && this.restartsUsed(s) < this.restarts;
  }

  /** Client `c` restarts: its pending call is abandoned, its ids start over (after a registration, with sessions). */
  restart(s: WorldState, c: NodeId): WorldState {
    const cs = s.nodes[c] as ClientState;
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[c] = { next: cs.next, pending: null, seq: 0, restarts: cs.restarts! + 1, registering: this.session !== undefined } satisfies ClientState;
    nodeBytes[c] = null;
    return { ...s, nodes, nodeBytes };
  }
}
