/**
 * What properties read: one world state, seen through roles. The checker implements it
 * (checker/world-view.ts); specs only see this interface, so they stay free of checker code.
 */
import type { NodeId } from './schema.ts';

/** A state test: a predicate over a node's state, or a value the state must equal. */
export type StateTest<S = any> = ((state: S, id: NodeId) => boolean) | S;

/** A client history entry: an invocation or a return, in the order they happened. */
export type HistoryEntry =
  | { readonly kind: 'invoke'; readonly client: NodeId; readonly id: number; readonly op: unknown }
  | { readonly kind: 'return'; readonly client: NodeId; readonly id: number; readonly result: unknown };

export interface WorldReader {
  /** True when some node of `role` passes `test`. */
  any<S = any>(role: string, test: StateTest<S>): boolean;
  /** True when every node of `role` passes `test`. */
  all<S = any>(role: string, test: StateTest<S>): boolean;
  /** How many nodes of `role` pass `test`. */
  count<S = any>(role: string, test: StateTest<S>): number;
  /** The states of a role's nodes, in id order. */
  states<S = any>(role: string): S[];
  /** The node ids of a role. */
  nodes(role: string): NodeId[];
  /** One node's state. */
  node<S = any>(id: NodeId): S;
  crashed(id: NodeId): boolean;
  /** True time. */
  readonly time: number;
  /** Node `id`'s clock reading (true time plus its offset, under `--clock-error`). */
  clock(id: NodeId): number;
  /** Messages in flight (or ever sent, under the set network), with their copy counts. */
  messages<M = any>(): { from: NodeId; to: NodeId; msg: M; count: number }[];
  /** The client history so far. */
  history(): readonly HistoryEntry[];
}
