/**
 * Where nodes sit. Node ids are global indexes over the protocol's roles in declaration order,
 * then the clients (role `client`). The checker's world and the executor's cluster both lay a
 * protocol out with {@link Layout}, so a handler sees the same ids, names and `ctx` in both.
 */
import type { ActionDef, AnyRole, Ctx, Params, Protocol } from './protocol.ts';
import { SpecError } from './protocol.ts';
import { t, type NodeId, type Schema } from './schema.ts';

/** Channel bytes of envelopes and frames. */
export const CHANNEL = {
  /** A protocol message between nodes. */
  message: 0,
  /** A client request `{ id, op }`. */
  request: 1,
  /** A reply `{ id, result }` to a client. */
  reply: 2,
} as const;

/** A role's span of node ids: `base .. base + count - 1`. */
export interface RoleSpan {
  readonly name: string;
  readonly count: number;
  readonly base: NodeId;
}

/** One role as laid out. */
export interface RoleLayout extends RoleSpan {
  readonly def: AnyRole;
  /** Nodes of this role are interchangeable (`--symmetry` may permute them). */
  readonly symmetric: boolean;
  /** Field names that survive a crash, or `true` for the whole state. */
  readonly durable: readonly string[] | true;
  /** The role's local actions, in declaration order. */
  readonly actions: readonly (readonly [string, ActionDef<any, any, any, any>])[];
}

/**
 * A client's own state: how many operations it invoked, and the operation it waits on. Worlds
 * with client restarts (`clientRestarts`) keep three more fields, absent otherwise so that a
 * world without them packs, fingerprints and prints as before.
 */
export interface ClientState {
  /** Operations invoked, in all incarnations (at most `opsPerClient`); the request id without restarts. */
  readonly next: number;
  readonly pending: { readonly id: number; readonly op: unknown } | null;
  /** With restarts: the id of the client's next request (an incarnation numbers its own). */
  readonly seq?: number;
  /** With restarts: how many times the client restarted (the nonce of its registration). */
  readonly restarts?: number;
  /** With restarts: the client restarted and must register a session before its next operation. */
  readonly registering?: boolean;
}

/** The clients of a protocol and the schemas of their channels. */
export interface ClientsLayout {
  readonly role: RoleLayout;
  /** The role that serves requests. */
  readonly target: RoleLayout;
  readonly op: Schema<unknown>;
  readonly result: Schema<unknown>;
  /** `{ id, op }`: the payload of a request. */
  readonly request: Schema<{ readonly id: number; readonly op: unknown }>;
  /** `{ id, result }`: the payload of a reply. */
  readonly reply: Schema<{ readonly id: number; readonly result: unknown }>;
  readonly state: Schema<ClientState>;
}

/** How many nodes a role has under `params` (an integer from 0 to 255). */
export function roleCount(name: string, count: AnyRole['count'], params: Params): number {
  const n = typeof count === 'function' ? count(params) : count;
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new SpecError('layout', `role '${name}' has count ${String(n)}; expected an integer from 0 to 255`);
  }
  return n;
}

/** A readable node name: the role, with a 1-based index when the role has several nodes. */
export function nodeName(role: RoleSpan | undefined, id: NodeId): string {
  if (!role) return `node${id}`;
  return role.count === 1 ? role.name : `${role.name}${id - role.base + 1}`;
}

/** The protocol's node layout under fixed params: roles, ids, names and each node's `ctx`. */
export class Layout {
  readonly roles: RoleLayout[] = [];
  /** Protocol nodes (every role but the clients): ids `0 .. protocolNodes - 1`. */
  readonly protocolNodes: number;
  /** All nodes, clients included. */
  readonly nodeCount: number;
  readonly clients: ClientsLayout | null = null;
  /** The role of each node id. */
  readonly roleOfNode: RoleLayout[] = [];
  /** Each node's `ctx` (the same object for the node's whole life). */
  readonly ctxs: Ctx[] = [];
  private readonly byName = new Map<string, RoleLayout>();

  /**
   * `clientCount` overrides the number of clients the protocol declares (the executor's choice);
   * `clientRestarts`: the world's clients may restart (their state keeps the fields for it).
   */
  constructor(
    readonly protocol: Protocol,
    readonly params: Params,
    clientCount?: number,
    clientRestarts = false,
  ) {
    let base = 0;
    for (const [name, def] of Object.entries(protocol.roles)) {
      const count = roleCount(name, def.count, params);
      base = this.add({
        name, def, count, base, symmetric: Boolean(def.symmetric),
        durable: (def.durable as unknown) === true ? true : ((def.durable ?? []) as readonly string[]),
        actions: Object.entries(def.actions ?? {}),
      });
    }
    this.protocolNodes = base;
    const cdef = protocol.clients;
    if (cdef) {
      const count = clientCount ?? roleCount('client', cdef.count, params);
      const fields = { next: t.u32, pending: t.option(t.struct({ id: t.u32, op: cdef.op })) };
      const state = (clientRestarts ? t.struct({ ...fields, seq: t.u32, restarts: t.u32, registering: t.bool }) : t.struct(fields)) as Schema<ClientState>;
      const init = clientRestarts
        ? (): ClientState => ({ next: 0, pending: null, seq: 0, restarts: 0, registering: false })
        : (): ClientState => ({ next: 0, pending: null });
      const role: RoleLayout = { name: 'client', count, base, symmetric: false, durable: true, actions: [], def: { count, state, init } };
      base = this.add(role);
      this.clients = {
        role,
        target: this.byName.get(cdef.target)!,
        op: cdef.op,
        result: cdef.result,
        request: t.struct({ id: t.u32, op: cdef.op }),
        reply: t.struct({ id: t.u32, result: cdef.result }),
        state,
      };
    }
    this.nodeCount = base;
    const lists = new Map(this.roles.map((r) => [r.name, Array.from({ length: r.count }, (_, i) => r.base + i)]));
    for (let id = 0; id < base; id++) this.ctxs.push(this.makeCtx(id, lists));
  }

  private add(role: RoleLayout): number {
    this.roles.push(role);
    this.byName.set(role.name, role);
    for (let i = 0; i < role.count; i++) this.roleOfNode.push(role);
    return role.base + role.count;
  }

  /** A role by name. */
  role(name: string): RoleLayout | undefined {
    return this.byName.get(name);
  }

  /** Whether `id` is a client node. */
  isClient(id: NodeId): boolean {
    return this.clients !== null && this.roleOfNode[id] === this.clients.role;
  }

  /** A readable node name: the role, with a 1-based index when it has several nodes. */
  nodeName(id: NodeId): string {
    return nodeName(this.roleOfNode[id], id);
  }

  /** Every node's name, in id order. */
  nodeNames(): string[] {
    return Array.from({ length: this.nodeCount }, (_, id) => this.nodeName(id));
  }

  private makeCtx(id: NodeId, lists: ReadonlyMap<string, NodeId[]>): Ctx {
    const info = this.roleOfNode[id]!;
    const roleOf = this.roleOfNode;
    return {
      self: id,
      role: info.name,
      index: id - info.base,
      params: this.params,
      count(role) {
        const list = lists.get(role);
        if (!list) throw new SpecError('ctx.count', `no role '${role}'`);
        return list.length;
      },
      nodes(role) {
        const list = lists.get(role);
        if (!list) throw new SpecError('ctx.nodes', `no role '${role}'`);
        return list;
      },
      roleOf(n) {
        const r = roleOf[n];
        if (!r) throw new SpecError('ctx.roleOf', `${String(n)} is not a node id`);
        return r.name;
      },
    };
  }
}

/**
 * What node `id` keeps through a crash: the fields its role declares durable, over a fresh
 * `init` (the whole state for `durable: true`; nothing for no durable fields), as the role's
 * `durableView` cuts them back (what was not yet to be written is lost).
 */
export function durableProjection(role: RoleLayout, fresh: unknown, current: unknown): unknown {
  const durable = role.durable;
  const state = role.def.durableView ? role.def.durableView(current) : current;
  if (durable === true) return state;
  if (durable.length === 0) return fresh;
  const old = state as Record<string, unknown>;
  const next = { ...(fresh as Record<string, unknown>) };
  for (const f of durable) next[f] = old[f];
  return next;
}
