/**
 * Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012) for random walks: instead of every
 * walk mixing every kind of event in the same proportions, each walk draws its own mix from its
 * seed — some event kinds and actions switched off, others weighted up. Bugs that need many of
 * one thing and none of another (all RMs prepared, no aborts) become likely in some walks.
 *
 * A feature is an event kind (deliver, drop, crash, tick, ...) or one action of one role
 * (`tm.commit`). A switched-off feature is avoided while anything else is enabled: a walk never
 * stops just because its mix left it nothing to do.
 */
import type { Rng } from './rng.ts';
import type { EventRef, World } from './world.ts';

/** Weights a feature can draw: off, normal, favoured. */
const WEIGHTS = [0, 1, 4] as const;

/** The features of a world, with a stable index each (event kinds first, then actions). */
export class SwarmFeatures {
  readonly names: string[] = [];
  private readonly kindIndex = new Map<string, number>();
  /** Per node: action name → feature index. */
  private readonly actionIndex: Map<string, number>[] = [];

  constructor(world: World) {
    const o = world.options;
    const kinds: string[] = ['deliver'];
    if (o.dup && o.network !== 'set') kinds.push('duplicate');
    if (o.drop && o.network !== 'set') kinds.push('drop');
    if (o.crashes > 0) kinds.push('crash');
    if (o.crashes > 0 || (o.clientRestarts ?? 0) > 0) kinds.push('restart');
    if (o.maxTime > 0) kinds.push('tick');
    if ((world as { clients?: unknown }).clients) kinds.push('invoke');
    for (const k of kinds) {
      this.kindIndex.set(k, this.names.length);
      this.names.push(k);
    }
    const byRole = new Map<string, Map<string, number>>();
    for (const r of world.roles) {
      const m = new Map<string, number>();
      for (const [name] of r.actions) {
        m.set(name, this.names.length);
        this.names.push(`${r.name}.${name}`);
      }
      byRole.set(r.name, m);
    }
    for (let id = 0; id < world.nodeCount; id++) this.actionIndex.push(byRole.get(world.roleOfNode[id]!.name)!);
  }

  /** The feature an event belongs to. */
  of(ref: EventRef): number {
    if (ref.kind === 'action') return this.actionIndex[ref.node]!.get(ref.action)!;
    // An event kind this world was not expected to produce counts as plain delivery.
    return this.kindIndex.get(ref.kind) ?? 0;
  }
}

/** One walk's mix: a weight per feature. */
export class SwarmMix {
  constructor(
    readonly features: SwarmFeatures,
    readonly weights: Uint8Array,
  ) {}

  /** Draws a mix: each feature off, normal or favoured with equal odds; never all off. */
  static draw(features: SwarmFeatures, rng: Rng): SwarmMix {
    const weights = new Uint8Array(features.names.length);
    let any = false;
    for (let i = 0; i < weights.length; i++) {
      weights[i] = WEIGHTS[rng.below(WEIGHTS.length)]!;
      if (weights[i]) any = true;
    }
    if (!any && weights.length) weights[rng.below(weights.length)] = 1;
    return new SwarmMix(features, weights);
  }

  /** Picks among candidates by weight; uniformly when every candidate is switched off. */
  choose(featureOf: ArrayLike<number>, count: number, rng: Rng): number {
    let total = 0;
    for (let i = 0; i < count; i++) total += this.weights[featureOf[i]!]!;
    if (total === 0) return rng.below(count);
    let r = rng.below(total);
    for (let i = 0; i < count; i++) {
      r -= this.weights[featureOf[i]!]!;
      if (r < 0) return i;
    }
    return count - 1;
  }

  /** The mix as plain JSON (logged in trace files): feature → weight. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    this.features.names.forEach((n, i) => (out[n] = this.weights[i]!));
    return out;
  }
}
