/**
 * A small direct-mapped set of fingerprints known to be visited, checked before the visited
 * set itself. Most successors already visited were reached moments ago from a sibling (a then
 * b, b then a), and this set answers for them from cache (512 KiB) instead of a random access
 * into a table of hundreds of megabytes. It may forget (a slot keeps the last fingerprint put
 * there), never invents: only fingerprints in the visited set are added.
 */
export class RecentSet {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(bits = 16) {
    this.slots = new Int32Array(2 << bits);
    this.mask = (1 << bits) - 1;
  }

  /** Whether `visited` holds a fingerprint, asked here first (and remembered when it does). */
  visitedIn(visited: { has(hi: number, lo: number): boolean }, hi: number, lo: number): boolean {
    if (this.has(hi, lo)) return true;
    if (!visited.has(hi, lo)) return false;
    this.add(hi, lo);
    return true;
  }

  has(hi: number, lo: number): boolean {
    const at = ((lo ^ (hi >>> 11)) & this.mask) * 2;
    return this.slots[at] === (hi | 0) && this.slots[at + 1] === (lo | 0);
  }

  add(hi: number, lo: number): void {
    const at = ((lo ^ (hi >>> 11)) & this.mask) * 2;
    this.slots[at] = hi;
    this.slots[at + 1] = lo;
  }
}
