/**
 * A bounded memo of the transition relation for random walks. Handlers are pure, so a state's
 * successors never change: walks that pass through a state again (every walk passes through the
 * states near the initial one) reuse its successors, their events, and links to the successor
 * entries, instead of calling the spec's handlers and re-encoding worlds. States are keyed by
 * the 64-bit fingerprint of their concrete (not symmetry-reduced) packing, because walks and
 * their traces follow concrete node ids.
 *
 * Memory is bounded by `capacity` states; past it, new states are expanded but not remembered,
 * so walks still work, at the uncached speed, on spaces far larger than the cache. The cache
 * helps in proportion to how often walks revisit states: a lot on small spaces and near the
 * root, little deep inside large ones (see bench/random.ts for both).
 */
import type { Property } from '../specs/core/index.ts';
import type { EventRef, WorldState } from './world.ts';

/** A state's enabled successors (self-loops excluded), in the world's enumeration order. */
export interface Expansion {
  /** Number of successors. */
  count: number;
  /** Enabled protocol events (deliveries and actions), self-loops included: 0 means deadlock. */
  enabled: number;
  states: WorldState[];
  refs: EventRef[];
  /** The actor of each event (PCT): the node it happens at; the clock is actor `nodeCount`. */
  actors: Int32Array;
  /** The swarm feature of each event (when swarm is on). */
  features: Int32Array | null;
  /** The entry of each successor, once known (only entries that are in the cache). */
  next: (StateEntry | undefined)[];
}

/** What the walker knows about one state. */
export interface StateEntry {
  /** Fingerprint of the concrete packing. */
  hi: number;
  lo: number;
  state: WorldState;
  /** The first invariant the state violates. */
  bad: Property | undefined;
  expansion: Expansion | null;
  /** True when the entry lives in the cache (so others may link to it). */
  cached: boolean;
}

/** The memo: state entries by fingerprint, up to `capacity` of them, with hit and miss counts. */
export class TransitionCache {
  private readonly map = new Map<number, StateEntry>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The entry with fingerprint (hi, lo), if remembered. */
  get(hi: number, lo: number): StateEntry | undefined {
    const e = this.map.get(key(hi, lo));
    if (e && e.hi === hi && e.lo === lo) {
      this.hits++;
      return e;
    }
    this.misses++;
    return undefined;
  }

  /** Remembers `e` when there is room; marks it cached if so. */
  add(e: StateEntry): void {
    if (this.map.size >= this.capacity) return;
    const k = key(e.hi, e.lo);
    if (this.map.has(k)) return; // a 53-bit key clash with a different fingerprint: keep the first
    this.map.set(k, e);
    e.cached = true;
  }
}

/** 53 of the fingerprint's 64 bits as a Map key; entries hold the full 64 to rule out clashes. */
function key(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 0x100000000 + lo;
}
