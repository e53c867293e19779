/**
 * Immutable helpers for the readonly sets, arrays and maps of spec states. Handlers must not
 * mutate state; these return new values (or the same value when nothing changes, which the
 * checker reads as "no change").
 */

/** A total order on plain values (numbers, strings, booleans, null, arrays, objects, Maps). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (ta === 'number' || ta === 'string') return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ta === 'boolean') return (a ? 1 : 0) - (b ? 1 : 0);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (a instanceof Map && b instanceof Map) {
    return compareValues(
      [...a.entries()].sort((x, y) => compareValues(x[0], y[0])),
      [...b.entries()].sort((x, y) => compareValues(x[0], y[0])),
    );
  }
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  const c = compareValues(ka, kb);
  if (c !== 0) return c;
  for (const k of ka) {
    const d = compareValues((a as any)[k], (b as any)[k]);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Structural equality of plain values: `compareValues(a, b) === 0`, without the key sorting and
 * arrays an order needs (properties compare log entries in every state they check).
 */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a === null || a === undefined) && (b === null || b === undefined);
  const t = typeof a;
  if (t !== typeof b) return false;
  if (t === 'number' || t === 'string') return !((a as number) < (b as number)) && !((a as number) > (b as number));
  if (t === 'boolean') return false; // distinct booleans (equal ones returned above)
  const arrays = Array.isArray(a);
  if (arrays && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalValues(a[i], (b as unknown[])[i])) return false;
    return true;
  }
  if (a instanceof Map || b instanceof Map || arrays || Array.isArray(b)) return compareValues(a, b) === 0;
  // Plain objects: the same keys, in any order, with equal values.
  let keys = 0;
  for (const k in a as object) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !equalValues((a as any)[k], (b as any)[k])) return false;
    keys++;
  }
  for (const _ in b as object) keys--;
  return keys === 0;
}

/** Whether the set holds `x`. */
export function has<T>(set: readonly T[], x: T): boolean {
  for (const y of set) if (equalValues(x, y)) return true;
  return false;
}

/** The set with `x` added (kept sorted); the same set when `x` is already in it. */
export function add<T>(set: readonly T[], x: T): readonly T[] {
  let i = 0;
  while (i < set.length) {
    const c = compareValues(set[i], x);
    if (c === 0) return set;
    if (c > 0) break;
    i++;
  }
  return [...set.slice(0, i), x, ...set.slice(i)];
}

/** The set without `x`; the same set when `x` is not in it. */
export function remove<T>(set: readonly T[], x: T): readonly T[] {
  const i = set.findIndex((y) => compareValues(x, y) === 0);
  return i < 0 ? set : [...set.slice(0, i), ...set.slice(i + 1)];
}

/** The map with `k` set to `v`; the same map when it already held an equal value. */
export function put<K, V>(map: ReadonlyMap<K, V>, k: K, v: V): ReadonlyMap<K, V> {
  if (map.has(k) && equalValues(map.get(k), v)) return map;
  const out = new Map(map);
  out.set(k, v);
  return out;
}

/** The map without `k`. */
export function del<K, V>(map: ReadonlyMap<K, V>, k: K): ReadonlyMap<K, V> {
  if (!map.has(k)) return map;
  const out = new Map(map);
  out.delete(k);
  return out;
}

/** The array with element `i` replaced. */
export function setAt<T>(arr: readonly T[], i: number, v: T): readonly T[] {
  if (arr[i] === v) return arr;
  const out = arr.slice();
  out[i] = v;
  return out;
}

/**
 * Exhaustiveness for `switch (msg.kind)`: the compiler rejects the call unless every variant
 * was handled, and at run time it reports the message that slipped through.
 */
export function unreachable(x: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(x)}`);
}
