/**
 * Where nodes sit: node ids are global indexes over the protocol's roles in declaration order,
 * then the clients (role `client`). The checker's world and the executor's cluster both lay a
 * protocol out with these helpers, so a handler sees the same ids and `ctx` in both.
 */
import type { Ctx, Params, RoleDef } from './protocol.ts';
import { SpecError } from './protocol.ts';
import type { NodeId } from './schema.ts';

/** A role's span of node ids: `base .. base + count - 1`. */
export interface RoleSpan {
  readonly name: string;
  readonly count: number;
  readonly base: NodeId;
}

/** Channel bytes of envelopes and frames. */
export const CHANNEL = {
  /** A protocol message between nodes. */
  message: 0,
  /** A client request `{ id, op }`. */
  request: 1,
  /** A reply `{ id, result }` to a client. */
  reply: 2,
} as const;

/** How many nodes a role has under `params` (an integer from 0 to 255). */
export function roleCount(name: string, count: RoleDef<any, any, any>['count'], params: Params): number {
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

/** The `ctx` node `id` sees. `roleOf[id]` is the span of the role node `id` belongs to. */
export function makeCtx(spans: readonly RoleSpan[], roleOf: readonly RoleSpan[], id: NodeId, params: Params): Ctx {
  const info = roleOf[id]!;
  const lists = new Map(spans.map((r) => [r.name, Array.from({ length: r.count }, (_, i) => r.base + i)]));
  return {
    self: id,
    role: info.name,
    index: id - info.base,
    params,
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
