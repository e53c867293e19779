/**
 * A model: one protocol (variant) under fixed params and options, with what every explorer
 * needs — the world, its canonical packing (symmetry), and the properties to check.
 */
import type { LivenessProperty, Property, Protocol } from '../specs/core/index.ts';
import type { Options } from './options.ts';
import { fingerprint, fp as fpLanes } from './fingerprint.ts';
import { Symmetry } from './symmetry.ts';
import { linearizable as historyLinearizable, transactionalProperty } from './history-properties.ts';
import { World, type WorldState } from './world.ts';
import { WorldView } from './world-view.ts';
import { messageSizeInvariant } from './message-size.ts';

export class Model {
  readonly world: World;
  readonly symmetry: Symmetry | null;
  readonly view: WorldView;
  readonly invariants: Property[];
  readonly goals: Property[];
  /** Liveness properties: checked on the explored graph after the search (checker/liveness/). */
  readonly liveness: LivenessProperty[];

  constructor(
    readonly protocol: Protocol,
    readonly options: Options,
  ) {
    this.world = new World(protocol, options.params, options.world, options.fastPath);
    // The first handler calls of a run are run twice and checked for mutation and nondeterminism.
    this.world.runner.checkHandlers(options.checkDeterminism);
    const sym = options.symmetry ? new Symmetry(this.world) : null;
    this.symmetry = sym?.active ? sym : null;
    this.view = new WorldView(this.world);
    // History properties declared by the spec become invariants over the world's history.
    this.liveness = this.world.properties.filter((p): p is LivenessProperty => p.kind === 'eventually' || p.kind === 'leadsTo' || p.kind === 'alwaysEventually' || p.kind === 'eventuallyAlways');
    const properties: Property[] = this.world.properties.map((p) =>
      p.kind === 'eventually' || p.kind === 'leadsTo' || p.kind === 'alwaysEventually' || p.kind === 'eventuallyAlways'
        ? null
        : p.kind === 'linearizable'
        ? historyLinearizable(p.model, { name: p.name, mapOp: p.mapOp, mapResult: p.mapResult, keep: p.keep })
        : p.kind === 'transactional'
          ? transactionalProperty(p)
          : p,
    ).filter((p): p is Property => p !== null);
    this.invariants = properties.filter((p) => p.kind === 'invariant');
    const maxMessageBytes = options.world.maxMessageBytes ?? Number.POSITIVE_INFINITY;
    if (maxMessageBytes !== Number.POSITIVE_INFINITY) this.invariants.push(messageSizeInvariant(this.world.envelopes, maxMessageBytes));
    this.goals = properties.filter((p) => p.kind === 'reachable');
  }

  /** The packed form of a state for the frontier: canonical under symmetry. A view; copy to keep. */
  pack(s: WorldState): Uint8Array {
    if (!this.symmetry) return this.world.encode(s);
    // The explorers fingerprint a state, then pack it if new: canonicalize it only once.
    if (s === this.canonicalOf) return this.canonicalBytes;
    this.canonicalOf = null; // the canonical writer is about to be reused
    return this.symmetry.canonical(s);
  }

  /** The state last canonicalized by {@link fingerprint}, and its canonical bytes (a view). */
  private canonicalOf: WorldState | null = null;
  private canonicalBytes: Uint8Array = new Uint8Array(0);

  /** The last fingerprint computed by {@link fingerprint}: [high lane, low lane]. */
  readonly fp = new Uint32Array(2);

  /**
   * The fingerprint the visited set uses: the world's incremental one, or under symmetry the
   * hash of the canonical packing (which is then left in the writer for {@link pack}).
   */
  fingerprint(s: WorldState): void {
    if (this.symmetry) {
      const bytes = this.symmetry.canonical(s);
      this.canonicalOf = s;
      this.canonicalBytes = bytes;
      fingerprint(bytes, 0, bytes.length);
      this.fp[0] = fpLanes.hi;
      this.fp[1] = fpLanes.lo;
      return;
    }
    this.world.fingerprintInto(s, this.fp);
  }

  /** The first invariant `s` violates, or undefined. */
  violated(s: WorldState): Property | undefined {
    this.view.state = s;
    for (const p of this.invariants) {
      if (!p.check(this.view)) return p;
    }
    return undefined;
  }
}
