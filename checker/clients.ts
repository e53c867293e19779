/**
 * The clients of a protocol, as the world runs them: K built-in nodes of role `client`, each
 * issuing up to `opsPerClient` operations, one at a time, to any node of the target role. The
 * request and the reply travel through the modeled network; the history records each
 * invocation and return in the order they happened, which is the real-time order history
 * checkers need. One object owns all of these rules.
 */
import type { ClientsLayout, ClientState, Layout } from '../specs/core/layout.ts';
import type { Params } from '../specs/core/protocol.ts';
import { t, type NodeId, type Schema } from '../specs/core/schema.ts';
import type { Envelopes } from './envelopes.ts';
import type { Network } from './network.ts';
import type { HistoryEvent, WorldState } from './world-state.ts';

export class Clients {
  readonly layout: ClientsLayout;
  /** The operations a client may invoke (the model tries each). */
  readonly ops: readonly unknown[];
  readonly opsPerClient: number;
  readonly history: Schema<readonly HistoryEvent[]>;

  constructor(layout: Layout, params: Params) {
    const def = layout.protocol.clients!;
    this.layout = layout.clients!;
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

  /** Client `c` invokes operation `ops[k]` at node `to`: the request goes out, the history records it. */
  invoke(s: WorldState, c: NodeId, to: NodeId, k: number, envelopes: Envelopes, network: Network): WorldState {
    const cs = s.nodes[c] as ClientState;
    const id = cs.next;
    const op = this.ops[k];
    const len = envelopes.encodeRequest(c, to, id, op);
    const net = network.add(s.net, envelopes.writer.buf, len, c, to, true);
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[c] = { next: id + 1, pending: { id, op } } satisfies ClientState;
    nodeBytes[c] = null;
    return { ...s, nodes, nodeBytes, net, history: [...s.history, { kind: 'invoke', client: c, id, op }] };
  }

  /**
   * A reply reaches client `c` in `s`: it completes the pending operation, or is ignored when
   * stale. Returns the client's next state and the history (both unchanged when ignored).
   */
  reply(s: WorldState, c: NodeId, reply: { id: number; result: unknown }): { after: unknown; history: readonly HistoryEvent[] } {
    const cs = s.nodes[c] as ClientState;
    if (cs.pending === null || cs.pending.id !== reply.id) return { after: cs, history: s.history };
    return {
      after: { next: cs.next, pending: null } satisfies ClientState,
      history: [...s.history, { kind: 'return', client: c, id: reply.id, result: reply.result }],
    };
  }
}
