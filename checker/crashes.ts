/**
 * Crashes, as one object that owns their rules: a run may have up to `budget` crashes in all; a
 * protocol node (never a client) that crashes keeps the fields its role declares durable and
 * restarts from `init` for the rest; a crashed node takes no step and receives nothing until it
 * restarts, which it may do at any time.
 *
 * Disk faults (`diskFaults`, CLI `--disk-faults N`): up to `diskFaults` times in a run, a crashed
 * node restarts with its durable state found damaged instead of intact — each kind a separate
 * restart event (`restart` with `arg` the {@link DamageKind}), so the search explores them all:
 * - `torn-tail`: the last write was cut; the state handed over is the durable state it crashed
 *   with (the checker's crash falls between steps, so the state before the torn write is the one
 *   a crash a step earlier keeps: nothing that depended on the lost write went out). A role that
 *   takes it as is (returns that very state) gets no successor for it: it is the clean restart;
 * - `corrupt-record`: a record failed its checksum and nothing before it could be read: `init`
 *   (the oldest state a disk can hand back; every record being a whole projection, a newer
 *   readable record is a state the node also held, which a torn tail already covers);
 * - `empty-log`: the durable state is gone: `init`.
 * The role's `onRecover(state, damage, ctx)` decides what the node starts from; a refusal keeps
 * it down (the damaged restart is not enabled). A role without `onRecover` gets the runtime's
 * default (impl/nodeRuntime.ts): a torn tail is accepted as is, any other damage refused.
 * (`lost-write`, an older state whose effects went out, is not modeled: the world keeps no older
 * durable states. specs/raft/disk-faults.ts emulates it for Raft, detected and undetected.)
 *
 * The world's `crashes` word holds both counters: crashes used, plus (budget + 1) × disk faults
 * used, so that with no disk faults it is the crash count, packed and fingerprinted as before.
 */
import { durableProjection, type Layout } from '../specs/core/layout.ts';
import { isRefusal, type DamageKind } from '../specs/core/protocol.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { StepRunner } from '../specs/core/step.ts';
import type { WorldState } from './world-state.ts';

/** The damage kinds the checker restarts a node with, in enumeration order. */
export const MODELED_DAMAGE: readonly DamageKind[] = ['torn-tail', 'corrupt-record', 'empty-log'];

export class Crashes {
  constructor(
    private readonly layout: Layout,
    private readonly runner: StepRunner,
    /** How many crashes a run may have in all. */
    readonly budget: number,
    /** How many restarts in a run may find the durable state damaged. */
    readonly diskFaults = 0,
  ) {}

  /** Crashes used in `s`. */
  used(s: WorldState): number {
    return this.diskFaults === 0 ? s.crashes : s.crashes % (this.budget + 1);
  }

  /** Disk faults used in `s`. */
  diskFaultsUsed(s: WorldState): number {
    return this.diskFaults === 0 ? 0 : Math.floor(s.crashes / (this.budget + 1));
  }

  /** Whether node `id` may crash in `s`. */
  canCrash(s: WorldState, id: NodeId): boolean {
    return this.used(s) < this.budget && !s.crashed[id] && !this.layout.isClient(id);
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

  /** Whether crashed node `id` may restart with damaged durable state in `s` (the budget is not spent). */
  canDamage(s: WorldState, id: NodeId): boolean {
    return s.crashed[id] === 1 && this.diskFaultsUsed(s) < this.diskFaults;
  }

  /**
   * Crashed node `id` restarts with its durable state damaged by `kind`: the state its role's
   * `onRecover` chose, or null when it refused (the node stays down) or `kind` is not modeled.
   */
  restartDamaged(s: WorldState, id: NodeId, kind: DamageKind): WorldState | null {
    if (!this.canDamage(s, id)) return null;
    let found: unknown;
    if (kind === 'torn-tail') found = s.nodes[id];
    else if (kind === 'corrupt-record' || kind === 'empty-log') found = this.runner.init(id);
    else return null;
    const answer = this.runner.recover(id, found, kind);
    // The role runs on exactly the state a clean restart gives it (a torn tail taken as is): the
    // clean restart is already a successor, and the same world with one more disk fault spent can
    // do no more than it (the budget only ever enables damage). Not a successor of its own.
    if (isRefusal(answer) || answer === s.nodes[id]) return null;
    const crashed = s.crashed.slice();
    crashed[id] = 0;
    const nodes = s.nodes.slice();
    const nodeBytes = s.nodeBytes.slice();
    nodes[id] = answer;
    nodeBytes[id] = null;
    return { ...s, crashes: s.crashes + this.budget + 1, crashed, nodes, nodeBytes };
  }
}
