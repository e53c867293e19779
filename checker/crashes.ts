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
 * - `lost-write`: a write the disk acknowledged is lost (an fsync that lied). Unlike a torn tail,
 *   its effects went out. Drawn at the step that wrote: a node's step that changes its durable
 *   fields may instead be a `crash` event (with the step in `arg`, {@link LostWriteStep}): the step
 *   runs and its messages go out, the write is lost, and the node crashes right after, keeping the
 *   durable state from before the step (crash flag {@link LOST_WRITE}). Its one restart is
 *   `restart` with `arg` `lost-write`: a role whose storage detects lost writes (`lostWrites:
 *   'detected'`, e.g. a high-water mark flushed apart) has `onRecover` told; otherwise the node
 *   runs on the older state as its newest. Only the last write before the crash is lost (the world
 *   keeps no older durable states); specs/raft/disk-faults.ts emulates any older state for Raft.
 * The role's `onRecover(state, damage, ctx)` decides what the node starts from; a refusal keeps
 * it down (the damaged restart is not enabled). A role without `onRecover` gets the runtime's
 * default (impl/nodeRuntime.ts): a torn tail is accepted as is, any other damage refused.
 *
 * The world's `crashes` word holds both counters: crashes used, plus (budget + 1) × disk faults
 * used, so that with no disk faults it is the crash count, packed and fingerprinted as before.
 */
import { durableProjection, type Layout } from '../specs/core/layout.ts';
import { equalValues } from '../specs/core/collections.ts';
import { isRefusal, type DamageKind } from '../specs/core/protocol.ts';
import type { NodeId } from '../specs/core/schema.ts';
import type { StepRunner } from '../specs/core/step.ts';
import type { WorldState } from './world-state.ts';

/** The damage kinds a crashed node may find at restart, in enumeration order (`lost-write` is drawn at the step that wrote). */
export const MODELED_DAMAGE: readonly DamageKind[] = ['torn-tail', 'corrupt-record', 'empty-log'];

/** Every damage kind the checker models. */
export const CHECKED_DAMAGE: readonly DamageKind[] = [...MODELED_DAMAGE, 'lost-write'];

/** The crash flag of a node that crashed right after a step whose write was lost. */
export const LOST_WRITE = 2;

/** The step a lost-write crash follows (a `crash` event's `arg`; `envelope` and `action` say which). */
export interface LostWriteStep {
  readonly lostWrite: 'deliver' | 'action';
  /** The action's argument (`lostWrite: 'action'`). */
  readonly arg?: unknown;
}

/** Whether a `crash` event's `arg` is a {@link LostWriteStep}. */
export function isLostWriteStep(arg: unknown): arg is LostWriteStep {
  return typeof arg === 'object' && arg !== null && 'lostWrite' in arg;
}

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

  /** Crashed node `id` restarts (with the state it crashed to); null after a lost write (see {@link restartAfterLostWrite}). */
  restart(s: WorldState, id: NodeId): WorldState | null {
    if (s.crashed[id] === LOST_WRITE) return null;
    const crashed = s.crashed.slice();
    crashed[id] = 0;
    const nodeBytes = s.nodeBytes.slice();
    nodeBytes[id] = null;
    return { ...s, crashed, nodeBytes };
  }

  /** Whether node `id` may take a step whose write is lost, and crash right after it, in `s`. */
  canLoseWrite(s: WorldState, id: NodeId): boolean {
    return this.diskFaults > 0 && this.canCrash(s, id) && this.diskFaultsUsed(s) < this.diskFaults;
  }

  /**
   * `after` is the world after a step of node `id` from `s`; the step's write is lost and the node
   * crashes: it keeps the durable fields it had before the step, the step's messages stay sent. Null
   * when the step changed no durable field (nothing was written to lose: it is a plain crash).
   */
  loseWrite(s: WorldState, after: WorldState, id: NodeId): WorldState | null {
    const role = this.layout.roleOfNode[id]!;
    const fresh = this.runner.init(id);
    const older = durableProjection(role, fresh, s.nodes[id]);
    if (equalValues(older, durableProjection(role, fresh, after.nodes[id]))) return null;
    return { ...withCrashFlag(after, id, LOST_WRITE, older), crashes: after.crashes + 1 + this.budget + 1 };
  }

  /**
   * Node `id`, crashed after a lost write, restarts: its role's `onRecover` is told `lost-write`
   * when its storage detects lost writes (null when it refuses), else it runs on the older state.
   */
  restartAfterLostWrite(s: WorldState, id: NodeId): WorldState | null {
    if (s.crashed[id] !== LOST_WRITE) return null;
    const detected = this.layout.roleOfNode[id]!.def.lostWrites === 'detected';
    const answer = detected ? this.runner.recover(id, s.nodes[id], 'lost-write') : s.nodes[id];
    if (isRefusal(answer)) return null;
    return withCrashFlag(s, id, 0, answer);
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
    return { ...withCrashFlag(s, id, 0, answer), crashes: s.crashes + this.budget + 1 };
  }
}

/** `s` with node `id` in node state `state` and crash flag `flag` (its bytes to be encoded afresh). */
function withCrashFlag(s: WorldState, id: NodeId, flag: number, state: unknown): WorldState {
  const crashed = s.crashed.slice();
  crashed[id] = flag;
  const nodes = s.nodes.slice();
  const nodeBytes = s.nodeBytes.slice();
  nodes[id] = state;
  nodeBytes[id] = null;
  return { ...s, crashed, nodes, nodeBytes };
}
