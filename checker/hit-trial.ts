/**
 * Whether a cache earns its keep, judged on its first lookups. The checker's caches (decoded
 * node states, remembered outcomes, permuted images) pay off when node states repeat across
 * worlds, as they do in message-passing models. Where they do not (a shared-memory model is one
 * node holding the whole world, and each of its states is new), a cache only keeps each state
 * alive long enough to be promoted and traced by the collector: a trial turns it off.
 */
export class HitTrial {
  private lookups = 0;
  private hits = 0;
  /** False once the trial has shown fewer than one hit in `minRatio` lookups. */
  on = true;

  constructor(
    private readonly length = 1 << 12,
    private readonly minRatio = 8,
  ) {}

  /** Counts one lookup during the trial; returns whether the cache is still on. */
  record(hit: boolean): boolean {
    if (this.lookups < this.length) {
      this.lookups++;
      if (hit) this.hits++;
      if (this.lookups === this.length && this.hits * this.minRatio < this.length) this.on = false;
    }
    return this.on;
  }
}

/** A Map from immutable values to what is derived from them, kept only while its {@link HitTrial} says it pays. */
export class TrialMap<K, V> {
  private readonly map = new Map<K, V>();
  private readonly trial = new HitTrial();

  /** `max`: entries held before it starts over. */
  constructor(private readonly max: number) {}

  /** The value remembered for `key`; counts the lookup in the trial. */
  get(key: K): V | undefined {
    if (!this.trial.on) return undefined;
    const v = this.map.get(key);
    if (!this.trial.record(v !== undefined)) this.map.clear();
    return v;
  }

  set(key: K, v: V): void {
    if (!this.trial.on) return;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, v);
  }
}
