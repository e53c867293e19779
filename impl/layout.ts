/**
 * A cluster's layout: which node ids play which role, each node's `ctx`, and the schemas of the
 * client channels. It mirrors the checker's world exactly (checker/world.ts), because the
 * executor must run the same handlers with the same ids: node ids are global indexes over the
 * protocol's roles in declaration order, then the clients (role `client`).
 *
 * The ids, names and `ctx` come from specs/core/layout.ts, which the checker's world uses too;
 * executor replay of the checker's traces is the test that the two agree.
 */
import type { Ctx, NodeId, Params, ParamValue, Protocol } from '../specs/core/index.ts';
import { CHANNEL, Layout, roleCount, type ClientsLayout, type RoleLayout } from '../specs/core/layout.ts';
import { ParamError, resolveParams } from '../specs/core/params.ts';
import { SpecError } from '../specs/core/protocol.ts';
import { UsageError } from './net/usageError.ts';

/** Channel bytes: the frame `kind` the runtime uses (the same numbers as the world's envelopes). */
export { CHANNEL };
export type { ClientsLayout, RoleLayout };

/**
 * Where every node of a cluster sits, and what its handlers see as `ctx`: the protocol's
 * {@link Layout} (the checker's world lays it out with the same class), with the executor's
 * choice of client count and its errors.
 */
export class ClusterLayout extends Layout {
  /**
   * `clients`: how many clients (default: the protocol's count); `clientRestarts`: the client
   * state has the model's restart fields (executor replay of a trace with client restarts).
   */
  constructor(protocol: Protocol, params: Params, options: { readonly clients?: number; readonly clientRestarts?: boolean } = {}) {
    const count = options.clients;
    if (count !== undefined && protocol.clients) {
      let base = 0;
      for (const [name, def] of Object.entries(protocol.roles)) base += layoutCount(name, def.count, params);
      if (!Number.isInteger(count) || count < 0 || count > 0xffff - base) {
        throw new UsageError('ClusterLayout', 'bad-clients', `clients must be an integer from 0 to ${0xffff - base}, got ${String(count)}`);
      }
    } else if (count && !protocol.clients) {
      throw new UsageError('ClusterLayout', 'no-clients', `protocol '${protocol.name}' declares no clients`);
    }
    try {
      super(protocol, params, count, options.clientRestarts ?? false);
    } catch (e) {
      if (e instanceof SpecError) throw new UsageError('ClusterLayout', 'bad-role-count', e.message.replace(/^layout: /, ''));
      throw e;
    }
  }

  /** The role node `id` plays; undefined when `id` is not a node of this cluster. */
  roleOf(id: NodeId): RoleLayout | undefined {
    return this.roleOfNode[id];
  }

  /** Node `id`'s ctx (the same object for the node's whole life). */
  ctx(id: NodeId): Ctx {
    const c = this.ctxs[id];
    if (!c) throw new UsageError('ClusterLayout.ctx', 'unknown-node', `${String(id)} is not a node id (the cluster has ${this.nodeCount})`);
    return c;
  }

  /** The node ids of the protocol's roles (clients excluded). */
  get protocolNodeIds(): NodeId[] {
    return Array.from({ length: this.protocolNodes }, (_, i) => i);
  }
}

function layoutCount(name: string, count: Protocol['roles'][string]['count'], params: Params): number {
  try {
    return roleCount(name, count, params);
  } catch (e) {
    throw new UsageError('ClusterLayout', 'bad-role-count', (e as Error).message.replace(/^layout: /, ''));
  }
}

/**
 * The spec's params with `overrides` applied, each checked against its default's type (the one
 * rule of specs/core/params.ts, as the checker's `--param`).
 */
export function resolveClusterParams(protocol: Protocol, overrides: Readonly<Record<string, ParamValue>> = {}): Params {
  try {
    return resolveParams(protocol, overrides);
  } catch (e) {
    if (!(e instanceof ParamError)) throw e;
    throw new UsageError('startCluster', /has no param/.test(e.message) ? 'unknown-param' : 'bad-param', e.message);
  }
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
    for (const [name, def] of Object.entries(protocol.roles)) n += layoutCount(name, def.count, p);
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
