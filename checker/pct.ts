/**
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010), as P's
 * prioritized scheduler uses it for message-passing programs.
 *
 * Actors are the nodes plus the clock. Each walk gives them distinct random priorities (all
 * above d), and draws d − 1 change points among the walk's steps. At each step the enabled
 * event of the highest-priority actor runs (uniformly among that actor's events); at the i-th
 * change point, the actor about to run drops to priority d − i, below every initial one. A bug
 * of depth d (d ordering constraints) is then found with probability at least 1/(n·k^(d−1)) per
 * walk, for n actors and k steps — far better than uniform walks for deep orderings.
 *
 * Limitation: k is the walk's step bound (`maxDepth`), so change points beyond where walks
 * actually end are never reached; keep `--max-depth` near the length of real walks.
 */
import type { Rng } from './rng.ts';

/** One walk's PCT schedule: actor priorities and change points, drawn from the walk's stream. */
export class PctScheduler {
  /** Priority per actor (higher runs first). */
  readonly priorities: Int32Array;
  /** The priorities the walk started with. */
  private readonly initial: Int32Array;
  /** Steps (1-based) at which the running actor is demoted, ascending. */
  readonly changePoints: number[];
  private nextChange = 0;

  /**
   * @param actors number of actors (nodes + the clock)
   * @param depth PCT's d: d − 1 change points
   * @param steps the walk's step bound k
   */
  constructor(actors: number, depth: number, steps: number, rng: Rng) {
    this.priorities = new Int32Array(actors);
    const order = Array.from({ length: actors }, (_, i) => i);
    for (let i = actors - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((actor, rank) => (this.priorities[actor] = depth + rank));
    this.initial = this.priorities.slice();
    const points = new Set<number>();
    const room = Math.max(1, Math.min(steps, 1 << 30));
    while (points.size < Math.min(depth - 1, room)) points.add(1 + rng.below(room));
    this.changePoints = [...points].sort((a, b) => a - b);
  }

  /**
   * Picks the candidate to run at `step` (1-based): one of the highest-priority actor's events.
   * `actorOf[i]` is candidate i's actor; candidates with a negative actor are skipped (at least
   * one must not be).
   */
  choose(actorOf: ArrayLike<number>, count: number, step: number, rng: Rng): number {
    let best = -1;
    let ties = 0;
    let chosen = 0;
    for (let i = 0; i < count; i++) {
      const a = actorOf[i]!;
      if (a < 0) continue;
      const p = this.priorities[a]!;
      if (p > best) {
        best = p;
        ties = 1;
        chosen = i;
      } else if (p === best && rng.below(++ties) === 0) {
        chosen = i; // reservoir sampling among the top actor's events
      }
    }
    if (this.nextChange < this.changePoints.length && this.changePoints[this.nextChange] === step) {
      // Demote the actor that was about to run; the step then goes to the new top actor.
      this.priorities[actorOf[chosen]!] = this.changePoints.length - this.nextChange;
      this.nextChange++;
      return this.choose(actorOf, count, step, rng);
    }
    return chosen;
  }

  /** The schedule the walk started with, as plain JSON (logged in trace files). */
  toJSON(actorNames: string[]): { priorities: Record<string, number>; changePoints: number[] } {
    const priorities: Record<string, number> = {};
    actorNames.forEach((n, i) => (priorities[n] = this.initial[i]!));
    return { priorities, changePoints: this.changePoints };
  }
}
