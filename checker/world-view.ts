/**
 * What a property sees: a read-only view of one world state. One view object is reused for
 * every state checked, so properties cost no allocation unless they make some.
 */
import { equalValues, type NodeId, type StateTest, type WorldReader } from '../specs/core/index.ts';
import type { HistoryEvent, World, WorldState } from './world.ts';

export class WorldView implements WorldReader {
  /** The state being viewed (set by the checker before each property check). */
  state!: WorldState;

  private readonly ranges = new Map<string, [number, number]>();

  constructor(private readonly world: World) {
    for (const r of world.roles) this.ranges.set(r.name, [r.base, r.base + r.count]);
  }

  private range(role: string): [number, number] {
    const r = this.ranges.get(role);
    if (!r) throw new Error(`WorldView: no role '${role}' (roles: ${this.world.roles.map((x) => x.name).join(', ')})`);
    return r;
  }

  private test(t: StateTest<unknown>, id: NodeId): boolean {
    const s = this.state.nodes[id];
    if (typeof t === 'function') return Boolean((t as (s: unknown, id: NodeId) => boolean)(s, id));
    return s === t || (typeof t === 'object' && equalValues(s, t));
  }

  /** True when some node of `role` passes `t`. */
  any<S = any>(role: string, t: StateTest<S>): boolean {
    const [a, b] = this.range(role);
    for (let id = a; id < b; id++) if (this.test(t as StateTest<unknown>, id)) return true;
    return false;
  }

  /** True when every node of `role` passes `t`. */
  all<S = any>(role: string, t: StateTest<S>): boolean {
    const [a, b] = this.range(role);
    for (let id = a; id < b; id++) if (!this.test(t as StateTest<unknown>, id)) return false;
    return true;
  }

  /** How many nodes of `role` pass `t`. */
  count<S = any>(role: string, t: StateTest<S>): number {
    const [a, b] = this.range(role);
    let n = 0;
    for (let id = a; id < b; id++) if (this.test(t as StateTest<unknown>, id)) n++;
    return n;
  }

  /** The states of a role's nodes, in id order. */
  states<S = any>(role: string): S[] {
    const [a, b] = this.range(role);
    return this.state.nodes.slice(a, b) as S[];
  }

  /** The node ids of a role. */
  nodes(role: string): NodeId[] {
    const [a, b] = this.range(role);
    return Array.from({ length: b - a }, (_, i) => a + i);
  }

  /** One node's state. */
  node<S = any>(id: NodeId): S {
    return this.state.nodes[id] as S;
  }

  crashed(id: NodeId): boolean {
    return this.state.crashed[id] !== 0;
  }

  /** True time. */
  get time(): number {
    return this.state.time;
  }

  /** Node `id`'s clock reading: true time plus its offset. */
  clock(id: NodeId): number {
    return this.state.time + this.state.offsets[id]!;
  }

  /** The client history so far: invocations and returns in the order they happened. */
  history(): readonly HistoryEvent[] {
    return this.state.history;
  }

  /** The messages in flight (or ever sent, under the set network). */
  messages<M = any>(): { from: NodeId; to: NodeId; msg: M; count: number }[] {
    return this.state.net.map((e) => ({ from: e.from, to: e.to, msg: this.world.message(e) as M, count: e.count }));
  }
}
