/**
 * A model: one protocol (variant) under fixed params and options, with what every explorer
 * needs — the world, its canonical packing (symmetry), and the properties to check.
 */
import type { Property, Protocol } from '../specs/core/index.ts';
import type { Options } from './options.ts';
import { Symmetry } from './symmetry.ts';
import { World, type WorldState } from './world.ts';
import { WorldView } from './world-view.ts';

export class Model {
  readonly world: World;
  readonly symmetry: Symmetry | null;
  readonly view: WorldView;
  readonly invariants: Property[];
  readonly goals: Property[];

  constructor(
    readonly protocol: Protocol,
    readonly options: Options,
  ) {
    this.world = new World(protocol, options.params, options.world);
    this.world.validateDurable();
    const sym = options.symmetry ? new Symmetry(this.world) : null;
    this.symmetry = sym?.active ? sym : null;
    this.view = new WorldView(this.world);
    this.invariants = this.world.properties.filter((p) => p.kind === 'invariant');
    this.goals = this.world.properties.filter((p) => p.kind === 'reachable');
  }

  /** The packed form used for fingerprints: canonical under symmetry. A view; copy to keep. */
  pack(s: WorldState): Uint8Array {
    return this.symmetry ? this.symmetry.canonical(s) : this.world.encode(s);
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
