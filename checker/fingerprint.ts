/**
 * 64-bit fingerprints of packed states, as two independent 32-bit lanes (Murmur3-style mixing
 * with different seeds). Computed straight over the bytes: no strings, no BigInt, no garbage.
 */

/** The two lanes of the last fingerprint computed (avoids allocating a result per call). */
export const fp = { hi: 0, lo: 0 };

/** Fingerprints `len` bytes of `buf` from `start` into {@link fp}. Never yields (0, 0). */
export function fingerprint(buf: Uint8Array, start: number, len: number): void {
  hash64(buf, start, len, 0, lanes);
  fp.hi = lanes[0]! >>> 0;
  fp.lo = lanes[1]! >>> 0;
  if (fp.hi === 0 && fp.lo === 0) fp.lo = 1;
}

const lanes = new Int32Array(2);

/** Murmur3's 32-bit finalizer. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** A fingerprint as 16 hex digits (trace files). */
export function fingerprintHex(buf: Uint8Array): string {
  fingerprint(buf, 0, buf.length);
  return fp.hi.toString(16).padStart(8, '0') + fp.lo.toString(16).padStart(8, '0');
}

/**
 * The probability that at least two of `n` distinct states share a 64-bit fingerprint
 * (birthday bound, n²/2⁶⁵), reported with every run as TLC does.
 */
export function collisionProbability(n: number): number {
  return Math.min(1, (n * (n - 1)) / 2 / 2 ** 64);
}

/**
 * A seeded 64-bit hash of `len` bytes into `out[0]` (high lane) and `out[1]` (low lane), for
 * the component hashes of incremental fingerprints. Callers pass their own `out`, so there is
 * no shared state between modules and no allocation.
 */
export function hash64(buf: Uint8Array, start: number, len: number, seed: number, out: Int32Array): void {
  let h1 = 0x9747b28c ^ len ^ seed;
  let h2 = 0x85ebca6b ^ Math.imul(len + seed, 0x27d4eb2d);
  const end = start + len;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, 0x85ebca77);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, 0xc2b2ae3d);
    h2 = (h2 << 11) | (h2 >>> 21);
    h2 = (Math.imul(h2, 9) + 0x52dce729) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let tail = buf[i]!;
    if (rest > 1) tail |= buf[i + 1]! << 8;
    if (rest > 2) tail |= buf[i + 2]! << 16;
    const k1 = Math.imul(tail, 0xcc9e2d51);
    h1 ^= Math.imul((k1 << 15) | (k1 >>> 17), 0x1b873593);
    h2 ^= Math.imul(tail, 0x85ebca77) ^ (tail >>> 3);
  }
  h1 ^= h2;
  h2 ^= h1 >>> 7;
  out[0] = fmix(h1);
  out[1] = fmix(h2 ^ 0x5bd1e995);
}

/** Finalizes summed component lanes into a fingerprint (never (0, 0)). */
export function finishSum(hi: number, lo: number, out: Uint32Array): void {
  const a = fmix((hi ^ Math.imul(lo, 0x9e3779b1)) | 0);
  const b = fmix((lo + Math.imul(a, 0x85ebca6b)) | 0);
  out[0] = a;
  out[1] = b;
  if (out[0] === 0 && out[1] === 0) out[1] = 1;
}
