/**
 * Crashes, as one object that owns their rules: a run may have up to `budget` crashes in all; a
 * protocol node (never a client) that crashes keeps the fields its role declares durable and
 * restarts from `init` for the rest; a crashed node takes no step and receives nothing until it
 * restarts, which it may do at any time.
 */
import { durableProjection, type Layout } from '../specs/core/layout.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { StepRunner } from '../specs/core/step.ts';
import type { WorldState } from './world-state.ts';

export class Crashes {
  constructor(
    private readonly layout: Layout,
    private readonly runner: StepRunner,
    /** How many crashes a run may have in all. */
    readonly budget: number,
  ) {}

  /** Whether node `id` may crash in `s`. */
  canCrash(s: WorldState, id: NodeId): boolean {
    return s.crashes < this.budget && !s.crashed[id] && !this.layout.isClient(id);
  }

  /** Node `id` crashes: it keeps its durable fields over a fresh `init`. */
  crash(s: WorldState, id: NodeId): WorldState {
    const kept = durableProjection(this.layout.roleOfNode[id]!, this.runner.init(id), s.nodes[id]);
    const crashed = s.crashed.slice();
    crashed[id] = 1;
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[id] = kept;
    nodeBytes[id] = null; // the crash flag is part of the node's packed section
    return {
      time: s.time, crashes: s.crashes + 1, crashed, offsets: s.offsets, nodes, nodeBytes, net: s.net, history: s.history,
      src: s.src, nodeAt: s.nodeAt, nodeHi: s.nodeHi, nodeLo: s.nodeLo, nodeSumHi: s.nodeSumHi, nodeSumLo: s.nodeSumLo,
      netBase: s.netBase, netAt: s.netAt, netEnd: s.netEnd, netSumHi: s.netSumHi, netSumLo: s.netSumLo,
    };
  }

  /** Crashed node `id` restarts (with the state it crashed to). */
  restart(s: WorldState, id: NodeId): WorldState {
    const crashed = s.crashed.slice();
    crashed[id] = 0;
    const nodeBytes = s.nodeBytes.slice();
    nodeBytes[id] = null;
    return { ...s, crashed, nodeBytes };
  }
}
