/**
 * The explored state graph, recorded during an exhaustive search for liveness checking, in typed
 * arrays: states by their visited-set index, edges in compressed rows (each state is expanded
 * once, so its out-edges arrive together), each edge labelled with its fairness class. A class
 * is what fairness speaks of: an action of a node (any of its `choices`, or each choice with
 * `fairPerChoice`), the delivery of one
 * message (its envelope bytes, whatever the copy count), the clock tick, or "unfair" (crashes,
 * restarts, drops, duplications, client invocations, clock drift). A class is enabled in a state
 * when the state has an out-edge with that label; self-loops (a step that changes nothing) are
 * not steps and are not recorded, as TLA+'s `<<A>>_vars`.
 *
 * Steps the in-flight bound cut are edges to -1 (see `cutEdge`).
 *
 * Memory: 8 bytes per edge (target index, class id: two Int32), 8 bytes per state (row start
 * and end) plus one byte per state and predicate; arrays grow by doubling, so up to twice that
 * while they fill. Nothing here runs unless the spec has a liveness property.
 */
import type { LivenessProperty } from '../../specs/core/protocol.ts';
import type { Model } from '../model.ts';
import type { Envelope, EventRef, WorldState } from '../world-state.ts';

/** Fairness kind of a class. */
export const UNFAIR = 0;
export const WEAK = 1;
export const STRONG = 2;
/** Delivery of one message: weakly fair when the property is checked under fair delivery. */
export const DELIVERY = 3;

export class StateGraph {
  /** Per state: first and one-past-last edge. */
  rowStart = new Int32Array(1024);
  rowEnd = new Int32Array(1024);
  /** Per edge: target state, class. */
  dst = new Int32Array(4096);
  cls = new Int32Array(4096);
  edges = 0;
  states = 0;
  /** Per state × predicate: 1 when the predicate holds. */
  bits: Uint8Array;
  /** The predicates evaluated per state (each liveness property's p, then q for leadsTo). */
  readonly predicates: ((w: any) => boolean)[] = [];
  /** Per class: its fairness kind and a readable name. */
  readonly classKind: number[] = [UNFAIR];
  readonly className: string[] = ['unfair'];
  private readonly actionClass: Map<string, number>[];
  private readonly envelopeClass = new Map<Envelope, number>();
  private readonly bytesClass = new Map<string, number>();
  private tickClass = -1;

  constructor(
    private readonly model: Model,
    readonly properties: readonly LivenessProperty[],
  ) {
    for (const p of properties) {
      this.predicates.push(p.p);
      if (p.kind === 'leadsTo') this.predicates.push(p.q!);
    }
    this.bits = new Uint8Array(1024 * Math.max(1, this.predicates.length));
    this.actionClass = Array.from({ length: model.world.nodeCount }, () => new Map());
  }

  /** Index of property `i`'s p (and q at +1 for leadsTo) among the predicates. */
  predicateIndex(i: number): number {
    let at = 0;
    for (let k = 0; k < i; k++) at += this.properties[k]!.kind === 'leadsTo' ? 2 : 1;
    return at;
  }

  /** A new state: evaluates the predicates on it. */
  state(index: number, s: WorldState): void {
    const m = this.predicates.length;
    if (index >= this.rowStart.length) this.growStates(index + 1);
    if (index >= this.states) this.states = index + 1;
    if (m === 0) return;
    const view = this.model.view;
    view.state = s;
    for (let k = 0; k < m; k++) this.bits[index * m + k] = this.predicates[k]!(view) ? 1 : 0;
  }

  /** Whether predicate `k` holds in state `index`. */
  holds(index: number, k: number): boolean {
    return this.bits[index * this.predicates.length + k] === 1;
  }

  /** State `index` is about to be expanded. */
  begin(index: number): void {
    this.rowStart[index] = this.edges;
    this.rowEnd[index] = this.edges;
  }

  /**
   * A step enabled in the state being expanded (`from`) that the world's in-flight bound
   * (`maxInFlight`, a state constraint) did not explore: recorded as an edge to nowhere (-1), so
   * that its class counts as enabled there — the bound prunes steps, it does not disable them —
   * and is never taken. A run that stays where the bound cuts a fair step is then no fair
   * cycle: it is an artefact of the bound, not a finding.
   */
  cutEdge(from: number, s: WorldState, e: EventRef): void {
    const at = this.edges++;
    if (at >= this.dst.length) this.growEdges();
    this.dst[at] = -1;
    this.cls[at] = this.classOf(s, e);
    this.rowEnd[from] = this.edges;
  }

  /** An edge of the state being expanded (`from`), taken by event `e` in state `s`. */
  edge(from: number, to: number, s: WorldState, e: EventRef): void {
    if (to === from || to < 0) return;
    const at = this.edges++;
    if (at >= this.dst.length) this.growEdges();
    this.dst[at] = to;
    this.cls[at] = this.classOf(s, e);
    this.rowEnd[from] = this.edges;
  }

  classOf(s: WorldState, e: EventRef): number {
    switch (e.kind) {
      case 'action': {
        const map = this.actionClass[e.node]!;
        const def = this.model.world.roleOfNode[e.node]!.def.actions?.[e.action];
        // Per choice (fairPerChoice): the class is (node, action, choice); choices are plain values.
        const perChoice = def?.fair !== undefined && def.fairPerChoice === true;
        const key = perChoice ? `${e.action}\u0000${JSON.stringify(e.arg)}` : e.action;
        let c = map.get(key);
        if (c === undefined) {
          const fair = def?.fair;
          const name = `${this.model.world.nodeName(e.node)}: ${e.action}${perChoice ? `(${JSON.stringify(e.arg)})` : ''}`;
          c = this.intern(fair === 'strong' ? STRONG : fair === 'weak' ? WEAK : UNFAIR, name);
          map.set(key, c);
        }
        return c;
      }
      case 'deliver': {
        const env = s.net[e.envelope]!;
        let c = this.envelopeClass.get(env);
        if (c === undefined) {
          const key = String.fromCharCode(...env.bytes);
          c = this.bytesClass.get(key);
          if (c === undefined) {
            const world = this.model.world;
            c = this.intern(DELIVERY, `${world.nodeName(env.from)} → ${world.nodeName(env.to)}: ${JSON.stringify(world.payloadJSON(env))}`);
            this.bytesClass.set(key, c);
          }
          this.envelopeClass.set(env, c);
        }
        return c;
      }
      case 'tick':
        if (this.tickClass < 0) this.tickClass = this.intern(WEAK, 'tick');
        return this.tickClass;
      default:
        return 0;
    }
  }

  private intern(kind: number, name: string): number {
    this.classKind.push(kind);
    this.className.push(name);
    return this.classKind.length - 1;
  }

  get classCount(): number {
    return this.classKind.length;
  }

  /** Bytes held by the graph's arrays per edge, and in all. */
  bytes(): { perEdge: number; total: number } {
    const total = this.rowStart.byteLength + this.rowEnd.byteLength + this.dst.byteLength + this.cls.byteLength + this.bits.byteLength;
    return { perEdge: 8, total };
  }

  private growStates(min: number): void {
    let cap = this.rowStart.length;
    while (cap < min) cap *= 2;
    const grow = <T extends Int32Array | Uint8Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.rowStart = grow(this.rowStart, cap);
    this.rowEnd = grow(this.rowEnd, cap);
    this.bits = grow(this.bits, cap * Math.max(1, this.predicates.length));
  }

  private growEdges(): void {
    const n = this.dst.length * 2;
    const d = new Int32Array(n);
    d.set(this.dst);
    const c = new Int32Array(n);
    c.set(this.cls);
    this.dst = d;
    this.cls = c;
  }
}
