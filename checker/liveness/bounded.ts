/**
 * Liveness in random mode: a bounded check of each walk, which can only *suspect* a violation.
 * A walk is finite, so it never shows that a property fails forever; what it can show is that
 * under a fair scheduler (uniform random choice gives every enabled event a chance at every step)
 * the property stayed unsatisfied for many steps:
 *
 * - `eventually p`: p held at no state of a walk that ran its full length (`maxDepth` steps);
 * - `leadsTo p q`: a p ∧ ¬q state at least `window` steps before the end, and ¬q since;
 * - `alwaysEventually p`: p held at none of the last `window` + 1 states;
 * - `eventuallyAlways p`: p still failed at a state less than `window` steps before the end (it
 *   has not settled).
 *
 * `window` is half the walk length. A walk that reaches a state where no fair event is enabled
 * may stay there forever: a monitor still unsatisfied there is a real violation (the stem of a
 * lasso whose cycle is that state), and the report says so (`terminal`).
 */
import type { LivenessProperty } from '../../specs/core/protocol.ts';
import type { Model } from '../model.ts';
import type { EventRef, WorldState } from '../world-state.ts';

/** A suspected violation: the property, and over how many final steps it stayed unsatisfied. */
export interface Suspect {
  property: LivenessProperty;
  steps: number;
  terminal: boolean;
}

/** Whether random walks can judge the model's liveness properties, and why not. */
export function boundedLivenessReason(model: Model): string | null {
  const o = model.options;
  if (!o.liveness) return 'turned off (--no-liveness)';
  if (o.random.strategy !== 'uniform' || o.random.swarm) {
    return 'random liveness needs the uniform scheduler (swarm mixes, PCT priorities and fast-check schedules may starve events, which is not fair)';
  }
  return null;
}

/**
 * Follows one walk's states and judges it. A state where no fair event is enabled (a fairly
 * scheduled run may stay there forever: only crashes, restarts, drops, duplications or client
 * invocations remain, which fairness never forces) with the property still unsatisfied is a real
 * violation, the stem of a stuttering lasso (`terminal`); otherwise the walk is judged when it
 * has run its full length, against the window.
 */
export class WalkMonitor {
  private readonly props: readonly LivenessProperty[];
  private readonly fairDelivery: boolean[];
  /** Per property: eventually — p seen; leadsTo — index of the earliest pending p ∧ ¬q (or -1); alwaysEventually — last index where p held. */
  private readonly mark: number[];
  private index = -1;

  constructor(private readonly model: Model) {
    this.props = model.liveness;
    this.fairDelivery = this.props.map((p) => model.options.fairDelivery || p.fairDelivery === true);
    this.mark = this.props.map(() => -1);
  }

  /** A new walk starts. */
  reset(): void {
    this.index = -1;
    this.mark.fill(-1);
  }

  /** The walk entered `state` (index 0 is the initial state). */
  see(state: WorldState): void {
    const i = ++this.index;
    const view = this.model.view;
    view.state = state;
    this.props.forEach((p, k) => {
      if (p.kind === 'eventually') {
        if (this.mark[k]! < 0 && p.p(view)) this.mark[k] = i;
      } else if (p.kind === 'leadsTo') {
        if (p.q!(view)) this.mark[k] = -1;
        else if (this.mark[k]! < 0 && p.p(view)) this.mark[k] = i;
      } else if (p.kind === 'eventuallyAlways') {
        if (!p.p(view)) this.mark[k] = i;
      } else if (p.p(view)) {
        this.mark[k] = i;
      }
    });
  }

  /**
   * The current state's enabled events (their kinds and, for actions, whether the action is
   * fair): a suspect when some property is unsatisfied and none of its fair events is enabled.
   */
  quiescent(events: readonly EventRef[], state: WorldState): Suspect | null {
    let fair = fairEvents(this.model, events);
    if (fair === 'fair') return null;
    // A fair step the in-flight bound cut is still enabled (the bound prunes, it does not
    // disable): a run cannot stop here, whatever the walk could explore.
    if (this.model.options.world.maxInFlight !== Number.POSITIVE_INFINITY) {
      const cut: EventRef[] = [];
      this.model.world.cutByBound(state, (e) => cut.push(e));
      const more = fairEvents(this.model, cut);
      if (more === 'fair') return null;
      if (more === 'delivery') fair = 'delivery';
    }
    for (let k = 0; k < this.props.length; k++) {
      if (fair === 'delivery' && this.fairDelivery[k]) continue;
      // eventuallyAlways: a run that stays in a ¬p state never settles.
      const steps = this.props[k]!.kind === 'eventuallyAlways' ? (this.mark[k] === this.index ? 0 : -1) : this.unsatisfiedFor(k);
      if (steps >= 0) return { property: this.props[k]!, steps, terminal: true };
    }
    return null;
  }

  /** The walk ran its full length (`maxDepth` steps): a suspect when a property waited too long. */
  finish(): Suspect | null {
    const window = Math.max(1, Math.floor(this.model.options.maxDepth / 2));
    for (let k = 0; k < this.props.length; k++) {
      if (this.props[k]!.kind === 'eventuallyAlways') {
        // Not settled: p failed less than `window` steps before the end.
        const m = this.mark[k]!;
        if (m >= 0 && this.index - m < window) return { property: this.props[k]!, steps: this.index - m, terminal: false };
        continue;
      }
      const steps = this.unsatisfiedFor(k);
      if (steps >= 0 && (this.props[k]!.kind === 'eventually' || steps >= window)) return { property: this.props[k]!, steps, terminal: false };
    }
    return null;
  }

  /** Over how many final steps property `k` has been unsatisfied (-1: it is satisfied now). */
  private unsatisfiedFor(k: number): number {
    const p = this.props[k]!;
    const m = this.mark[k]!;
    if (p.kind === 'eventually') return m < 0 ? this.index : -1;
    if (p.kind === 'leadsTo') return m < 0 ? -1 : this.index - m;
    return m === this.index ? -1 : this.index - m - 1;
  }
}

/**
 * Which fair events are among `events` (steps that change the state): 'fair' when a clock tick
 * or a fair action is, else 'delivery' when a delivery is (fair only under fair delivery), else
 * 'none' (only crashes, restarts, drops, duplications, invocations or unfair actions).
 */
export function fairEvents(model: Model, events: readonly EventRef[]): 'fair' | 'delivery' | 'none' {
  let delivery = false;
  const roles = model.world.roleOfNode;
  for (const e of events) {
    if (e.kind === 'tick') return 'fair';
    if (e.kind === 'deliver') delivery = true;
    else if (e.kind === 'action' && roles[e.node]!.def.actions?.[e.action]?.fair) return 'fair';
  }
  return delivery ? 'delivery' : 'none';
}

/** The sentence a report gives a suspected violation: what was not reached, and that it proves nothing. */
export function suspectText(kind: LivenessProperty['kind'], name: string, steps: number, terminal: boolean): string {
  const what =
    kind === 'eventually'
      ? `"${name}" not reached within ${steps} steps`
      : kind === 'eventuallyAlways'
        ? `"${name}" has not settled: it still failed ${steps} steps before the end of the walk`
      : kind === 'leadsTo'
        ? `"${name}": q not reached within ${steps} steps after p`
        : `"${name}": p not seen in the last ${steps} steps`;
  return terminal
    ? `${what}, and the walk reached a state where no fair event is enabled (a fair run may stay there forever): a violation`
    : `${what} under fair random scheduling: a suspected violation, not a proof (random walks are bounded; run an exhaustive check)`;
}
