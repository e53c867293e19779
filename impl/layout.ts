/**
 * A cluster's layout: which node ids play which role, each node's `ctx`, and the schemas of the
 * client channels. It mirrors the checker's world exactly (checker/world.ts), because the
 * executor must run the same handlers with the same ids: node ids are global indexes over the
 * protocol's roles in declaration order, then the clients (role `client`).
 *
 * The ids, names and `ctx` come from specs/core/layout.ts, which the checker's world uses too;
 * executor replay of the checker's traces is the test that the two agree.
 */
import {
  type AnyRole, type Ctx, type NodeId, type Params, type ParamValue, type Protocol, type Schema, CHANNEL, SpecError, makeCtx, nodeName, t,
} from '../specs/core/index.ts';
import { UsageError } from './net/usageError.ts';

/** Channel bytes: the frame `kind` the runtime uses (the same numbers as the world's envelopes). */
export { CHANNEL };

/** One role as laid out: its nodes are `base .. base + count - 1`. */
export interface RoleLayout {
  readonly name: string;
  readonly def: AnyRole;
  readonly count: number;
  readonly base: NodeId;
  /** Field names that survive a crash, or `true` for the whole state. */
  readonly durable: readonly string[] | true;
}

/** The clients of a protocol, as the executor runs them. */
export interface ClientsLayout {
  readonly role: RoleLayout;
  readonly target: RoleLayout;
  /** `{ id, op }`: the payload of a request frame. */
  readonly request: Schema<{ readonly id: number; readonly op: unknown }>;
  /** `{ id, result }`: the payload of a reply frame. */
  readonly reply: Schema<{ readonly id: number; readonly result: unknown }>;
  readonly op: Schema<unknown>;
  readonly result: Schema<unknown>;
  /** A client's own state in the model (`{ next, pending }`), for executor replay. */
  readonly state: Schema<{ readonly next: number; readonly pending: { readonly id: number; readonly op: unknown } | null }>;
}

/** Where every node of a cluster sits, and what its handlers see as `ctx`. */
export class ClusterLayout {
  readonly roles: RoleLayout[] = [];
  /** Protocol nodes (every role but the clients). */
  readonly protocolNodes: number;
  /** All nodes, clients included. */
  readonly nodeCount: number;
  readonly clients: ClientsLayout | null = null;
  readonly params: Params;
  readonly #roleOf: RoleLayout[] = [];
  readonly #ctxs: Ctx[] = [];

  constructor(
    readonly protocol: Protocol,
    params: Params,
    options: { readonly clients?: number } = {},
  ) {
    this.params = params;
    let base = 0;
    for (const [name, def] of Object.entries(protocol.roles)) {
      const count = roleCount(name, def.count, params);
      const durable = (def.durable as unknown) === true ? true : ((def.durable ?? []) as readonly string[]);
      const role: RoleLayout = { name, def, count, base, durable };
      this.roles.push(role);
      for (let i = 0; i < count; i++) this.#roleOf.push(role);
      base += count;
    }
    this.protocolNodes = base;
    const cdef = protocol.clients;
    if (cdef) {
      const count = options.clients ?? roleCount('client', cdef.count, params);
      if (!Number.isInteger(count) || count < 0 || count > 0xffff - base) {
        throw new UsageError('ClusterLayout', 'bad-clients', `clients must be an integer from 0 to ${0xffff - base}, got ${String(count)}`);
      }
      const state = t.struct({ next: t.u32, pending: t.option(t.struct({ id: t.u32, op: cdef.op })) });
      const role: RoleLayout = { name: 'client', count, base, durable: true, def: { count, state, init: () => ({ next: 0, pending: null }) } };
      this.roles.push(role);
      for (let i = 0; i < count; i++) this.#roleOf.push(role);
      base += count;
      this.clients = {
        role,
        target: this.roles.find((r) => r.name === cdef.target)!,
        request: t.struct({ id: t.u32, op: cdef.op }),
        reply: t.struct({ id: t.u32, result: cdef.result }),
        op: cdef.op,
        result: cdef.result,
        state,
      };
    } else if (options.clients) {
      throw new UsageError('ClusterLayout', 'no-clients', `protocol '${protocol.name}' declares no clients`);
    }
    this.nodeCount = base;
    for (let id = 0; id < base; id++) this.#ctxs.push(this.#makeCtx(id));
  }

  /** The role node `id` plays; undefined when `id` is not a node of this cluster. */
  roleOf(id: NodeId): RoleLayout | undefined {
    return this.#roleOf[id];
  }

  /** Node `id`'s ctx (the same object for the node's whole life). */
  ctx(id: NodeId): Ctx {
    const c = this.#ctxs[id];
    if (!c) throw new UsageError('ClusterLayout.ctx', 'unknown-node', `${String(id)} is not a node id (the cluster has ${this.nodeCount})`);
    return c;
  }

  /** A role by name. */
  role(name: string): RoleLayout | undefined {
    return this.roles.find((r) => r.name === name);
  }

  /** Whether `id` is a client node. */
  isClient(id: NodeId): boolean {
    return this.clients !== null && this.#roleOf[id] === this.clients.role;
  }

  /** The node ids of the protocol's roles (clients excluded). */
  get protocolNodeIds(): NodeId[] {
    return Array.from({ length: this.protocolNodes }, (_, i) => i);
  }

  /** A readable node name, as the checker prints it: the role, with a 1-based index when it has several nodes. */
  nodeName(id: NodeId): string {
    return nodeName(this.#roleOf[id], id);
  }

  #makeCtx(id: NodeId): Ctx {
    return makeCtx(this.roles, this.#roleOf, id, this.params);
  }
}

function roleCount(name: string, count: AnyRole['count'], params: Params): number {
  const n = typeof count === 'function' ? count(params) : count;
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new UsageError('ClusterLayout', 'bad-role-count', `role '${name}' has count ${String(n)}; expected an integer from 0 to 255`);
  }
  return n;
}

/**
 * The spec's params with `overrides` applied, each checked against its default's type (the same
 * rule as the checker's `--param`).
 */
export function resolveClusterParams(protocol: Protocol, overrides: Readonly<Record<string, ParamValue>> = {}): Params {
  const out: Params = { ...protocol.params };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in protocol.params)) {
      const known = Object.keys(protocol.params);
      throw new UsageError('startCluster', 'unknown-param', `spec '${protocol.name}' has no param '${k}'` + (known.length ? ` (params: ${known.join(', ')})` : ' (it takes none)'));
    }
    const expected = typeof protocol.params[k];
    if (typeof v !== expected) throw new UsageError('startCluster', 'bad-param', `param '${k}' must be a ${expected}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

/**
 * Params that give the protocol `nodes` protocol nodes in all. A spec sizes its roles through its
 * params (`rms`, `servers`); when exactly one numeric param changes the node count, it is set to
 * the value that gives `nodes` (two-phase: 4 nodes → rms 3). A param the caller set explicitly
 * must agree. Throws `startCluster/bad-nodes` when no single param does it.
 */
export function paramsForNodes(protocol: Protocol, params: Params, nodes: number, explicit: ReadonlySet<string>): Params {
  const total = (p: Params): number => {
    let n = 0;
    for (const [name, def] of Object.entries(protocol.roles)) n += roleCount(name, def.count, p);
    return n;
  };
  if (total(params) === nodes) return params;
  const sizing = Object.keys(params).filter((k) => {
    if (typeof params[k] !== 'number') return false;
    const v = params[k] as number;
    try {
      return total({ ...params, [k]: v + 1 }) !== total(params);
    } catch {
      return false;
    }
  });
  const fail = (why: string): never => {
    throw new UsageError('startCluster', 'bad-nodes', `${protocol.name} has ${total(params)} nodes under params ${JSON.stringify(params)}; cannot make ${nodes}: ${why}`);
  };
  if (sizing.length !== 1) fail(sizing.length === 0 ? 'no param sizes its roles' : `several params size its roles (${sizing.join(', ')}); set them in params`);
  const k = sizing[0]!;
  if (explicit.has(k)) fail(`params sets ${k} explicitly`);
  for (let v = 0; v <= 255; v++) {
    let n: number;
    try {
      n = total({ ...params, [k]: v });
    } catch {
      continue;
    }
    if (n === nodes) return { ...params, [k]: v };
  }
  return fail(`no value of ${k} gives ${nodes}`);
}
