/**
 * One bounded exhaustive job of a swarm (Holzmann, Joshi and Groce's swarm verification): a
 * depth-first search from the initial state to a depth bound, taking each state's successors in
 * an order shuffled by the job's seed, remembering states in a hash-compacted table keyed by the
 * same seed (compact-visited.ts), and leaving out the fault kinds the job's mix leaves out. As
 * in Spin, a state is expanded once, where the search first meets it: one first met near the
 * bound is not expanded again from a shorter path (re-expanding those took 5 to 8 expansions a
 * state on raft:commit-old-term), so a job may miss what lies within its bound; a job with
 * another seed or bound meets the state another way. The budget (states) keeps a job short,
 * and the shuffled order decides which part of a larger space a job covers. Random walks find
 * bugs that need many steps of one kind; these jobs find the ones that need one precise
 * schedule of a few dozen steps, which walks almost never draw.
 *
 * Everything a job does follows from (model, point): run twice, it visits the same states in
 * the same order and ends the same way, which keeps swarm jobs idempotent. It runs in slices
 * (`run(n)`), so a worker looks at the stop flag between them.
 */
import { fingerprint, fp } from '../fingerprint.ts';
import type { Model } from '../model.ts';
import { Rng } from '../rng.ts';
import { Search } from '../search.ts';
import type { FingerprintPath } from '../trace-builder.ts';
import { HandlerError, type SeenTest, type WorldState } from '../world.ts';
import { CompactVisited } from './compact-visited.ts';

/** Fault kinds a job's mix may leave out (crash takes its restarts with it; a client's restart is its own kind). */
export type FaultKind = 'drop' | 'duplicate' | 'crash' | 'client-restart' | 'tick';

/** Where in the space of bounded searches a job sits. */
export interface DfsPoint {
  /** States this many steps from the initial one are checked but not expanded. */
  bound: number;
  /** Shuffles the successor order and seeds the visited set's hashing. */
  seed: number;
  /** New states after which the job ends (its table is sized for them). */
  budget: number;
  /** Fault kinds this job never takes (among those the run allows). */
  omit: FaultKind[];
}

export type DfsOutcome =
  | { kind: 'running' }
  /** `complete`: no state met the bound and the budget was not reached: every state the mix reaches was searched. */
  | { kind: 'done'; complete: boolean }
  | { kind: 'violation'; property: string; path: FingerprintPath }
  | { kind: 'deadlock'; path: FingerprintPath }
  /** A handler threw while the last state of `path` was expanded. */
  | { kind: 'error'; error: string; path: FingerprintPath };

/** A state on the stack: its fingerprint, its successors (packed) in the job's order, the next one to try. */
interface Frame {
  hi: number;
  lo: number;
  next: Uint8Array[];
  /** The successors' fingerprints, [hi, lo] pairs. */
  fps: number[];
  order: number[];
  at: number;
}

export class BoundedDfs {
  readonly visited: CompactVisited;
  readonly search: Search;
  outcome: DfsOutcome = { kind: 'running' };
  /** Successors computed (self-loops excluded), the initial state included. */
  generated = 0;
  /** States expanded. */
  expanded = 0;
  /** The deepest state reached. */
  deepest = 0;
  /** Fingerprints of the new states as walks define them, [hi, lo] pairs (the swarm's coverage). */
  private seenFps = new Uint32Array(2048);
  private seenCount = 0;
  private readonly stack: Frame[] = [];
  private readonly rng: Rng;
  private readonly omitDrop: boolean;
  private readonly omitDup: boolean;
  private readonly omitCrash: boolean;
  private readonly omitClientRestart: boolean;
  private readonly omitTick: boolean;
  /** Whether part of the space was left out: the budget ran out, or states lie beyond the bound. */
  private cut = false;
  /** The successors of the state being expanded, and its fingerprint (for a handler error's path). */
  private next: Uint8Array[] = [];
  private fps: number[] = [];
  private expanding: [number, number] = [0, 0];
  /** Successors already visited are recognized from their fingerprint before they are built. */
  private readonly seen: SeenTest | undefined;
  private readonly collect: (n: WorldState) => void;

  constructor(
    readonly model: Model,
    readonly point: DfsPoint,
  ) {
    this.visited = new CompactVisited(point.budget, point.seed);
    this.search = new Search(model);
    this.rng = new Rng(point.seed ^ 0x5bd1e995);
    this.omitDrop = point.omit.includes('drop');
    this.omitDup = point.omit.includes('duplicate');
    this.omitCrash = point.omit.includes('crash');
    this.omitClientRestart = point.omit.includes('client-restart');
    this.omitTick = point.omit.includes('tick');
    const visited = this.visited;
    this.seen = model.symmetry || !model.options.fastPath
      ? undefined
      : (hi, lo) => {
          if (!visited.has(hi, lo)) return false;
          this.generated++;
          return true;
        };
    const world = model.world;
    this.collect = (n) => {
      this.generated++;
      const kind = world.event.kind;
      const clientRestart = kind === 'restart' && world.layout.isClient(world.event.node);
      if (
        (kind === 'drop' && this.omitDrop) || (kind === 'duplicate' && this.omitDup) || (kind === 'tick' && this.omitTick)
        || (clientRestart ? this.omitClientRestart : (kind === 'crash' || kind === 'restart') && this.omitCrash)
      ) return;
      model.fingerprint(n);
      const hi = model.fp[0]!;
      const lo = model.fp[1]!;
      if (visited.has(hi, lo)) return;
      this.next.push(model.pack(n).slice());
      this.fps.push(hi, lo);
    };
  }

  /** Distinct states seen (as the table counts them). */
  get distinct(): number {
    return this.visited.size;
  }

  /** Calls `f` with each new state's fingerprint as random walks define it (unsigned lanes). */
  forEachSeen(f: (hi: number, lo: number) => void): void {
    for (let i = 0; i < this.seenCount; i++) f(this.seenFps[i * 2]!, this.seenFps[i * 2 + 1]!);
  }

  /** Takes up to `slice` steps of the search; returns true once the job has ended (see {@link outcome}). */
  run(slice: number): boolean {
    if (this.outcome.kind !== 'running') return true;
    const model = this.model;
    try {
      if (this.generated === 0) {
        const init = model.world.initial();
        model.fingerprint(init);
        this.generated = 1;
        if (this.arrive(model.pack(init).slice(), model.fp[0]!, model.fp[1]!, 0)) return true;
      }
      for (let n = 0; n < slice; n++) {
        const top = this.stack[this.stack.length - 1];
        if (!top) {
          this.outcome = { kind: 'done', complete: !this.cut };
          return true;
        }
        if (top.at >= top.order.length) {
          this.stack.pop();
          continue;
        }
        const k = top.order[top.at++]!;
        if (this.arrive(top.next[k]!, top.fps[k * 2]!, top.fps[k * 2 + 1]!, this.stack.length)) return true;
      }
    } catch (e) {
      if (!(e instanceof HandlerError)) throw e;
      this.outcome = { kind: 'error', error: e.message, path: [...this.path(), this.expanding] };
      return true;
    }
    return false;
  }

  /**
   * A state (packed) reached `depth` steps from the initial one: if new, counted, checked, and
   * expanded (pushed) within the bound. True when the job ends here.
   */
  private arrive(bytes: Uint8Array, hi: number, lo: number, depth: number): boolean {
    if (!this.visited.add(hi, lo)) return false;
    if (depth > this.deepest) this.deepest = depth;
    this.remember(bytes);
    const world = this.model.world;
    // Decoded (not a successor object) so that the successor layer can skip visited successors unbuilt.
    const s = world.decode(bytes, true);
    const bad = this.search.examine(s, depth);
    if (bad) {
      this.outcome = { kind: 'violation', property: bad.name, path: [...this.path(), [hi, lo]] };
      return true;
    }
    if (this.visited.full) {
      this.cut = true;
      this.outcome = { kind: 'done', complete: false };
      return true;
    }
    if (depth >= this.point.bound) {
      this.cut = true;
      return false;
    }
    this.next = [];
    this.fps = [];
    this.expanding = [hi, lo];
    const enabled = world.successors(s, this.collect, this.seen);
    this.expanded++;
    if (enabled === 0 && this.model.options.deadlock) {
      this.outcome = { kind: 'deadlock', path: [...this.path(), [hi, lo]] };
      return true;
    }
    const order = Array.from({ length: this.next.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    this.stack.push({ hi, lo, next: this.next, fps: this.fps, order, at: 0 });
    return false;
  }

  /** The fingerprints of the states on the stack, from the initial one. */
  private path(): FingerprintPath {
    return this.stack.map((f) => [f.hi, f.lo] as [number, number]);
  }

  /**
   * Keeps a new state's fingerprint for the coverage, as random walks define it (the hash of the
   * packed bytes, canonical under symmetry), so that the swarm's HyperLogLog counts a state a
   * walk job and a DFS job both saw once.
   */
  private remember(bytes: Uint8Array): void {
    fingerprint(bytes, 0, bytes.length);
    const hi = fp.hi;
    const lo = fp.lo;
    if (this.seenCount * 2 >= this.seenFps.length) {
      const grown = new Uint32Array(this.seenFps.length * 2);
      grown.set(this.seenFps);
      this.seenFps = grown;
    }
    this.seenFps[this.seenCount * 2] = hi;
    this.seenFps[this.seenCount * 2 + 1] = lo;
    this.seenCount++;
  }
}
