import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK_BYTES = 64;

/**
 * Up to this many message bytes the JavaScript path is used: node:crypto's per-call cost (an Hmac
 * object and a native round trip, about 5 µs) dominates small frames. On Node 20 (x64) the JS path
 * took roughly half the time for a 92-byte frame and broke even between 256 and 512 bytes.
 */
export const HMAC_JS_BYTES_MAX = 256;

/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) under one fixed key. The key's inner and outer pad blocks are
 * compressed once, so a short message costs two or three compressions; messages above
 * {@link HMAC_JS_BYTES_MAX} bytes go to node:crypto. Both paths give identical tags (tested).
 * Not constant-time in the message length, which is public anyway.
 */
export class HmacSha256 {
  readonly #innerState = new Int32Array(8);
  readonly #outerState = new Int32Array(8);
  readonly #key: KeyObject;
  readonly #w = new Int32Array(64);
  readonly #state = new Int32Array(8);
  readonly #tail = Buffer.alloc(2 * BLOCK_BYTES);
  readonly #inner = Buffer.alloc(32);

  constructor(key: Uint8Array) {
    this.#key = createSecretKey(key);
    // Keys longer than a block are hashed first (RFC 2104).
    const k = key.length > BLOCK_BYTES ? createHash('sha256').update(key).digest() : key;
    const ipad = Buffer.alloc(BLOCK_BYTES, 0x36);
    const opad = Buffer.alloc(BLOCK_BYTES, 0x5c);
    for (let i = 0; i < k.length; i++) {
      ipad[i]! ^= k[i]!;
      opad[i]! ^= k[i]!;
    }
    this.#innerState.set(IV);
    this.#compress(this.#innerState, ipad, 0);
    this.#outerState.set(IV);
    this.#compress(this.#outerState, opad, 0);
  }

  /** The 32-byte tag of `bytes[start, end)`. Returns a fresh Buffer. */
  digest(bytes: Buffer, start: number, end: number): Buffer {
    if (end - start > HMAC_JS_BYTES_MAX) return createHmac('sha256', this.#key).update(bytes.subarray(start, end)).digest();
    this.#hashFrom(this.#innerState, bytes, start, end);
    writeState(this.#state, this.#inner);
    this.#hashFrom(this.#outerState, this.#inner, 0, 32);
    const out = Buffer.allocUnsafe(32);
    writeState(this.#state, out);
    return out;
  }

  /** SHA-256 of one block of prefix (already in `from`) followed by `bytes[start, end)`; result in #state. */
  #hashFrom(from: Int32Array, bytes: Buffer, start: number, end: number): void {
    const state = this.#state;
    state.set(from);
    let pos = start;
    for (; end - pos >= BLOCK_BYTES; pos += BLOCK_BYTES) this.#compress(state, bytes, pos);
    const rest = end - pos;
    const tail = this.#tail;
    tail.fill(0);
    bytes.copy(tail, 0, pos, end);
    tail[rest] = 0x80;
    const blocks = rest + 9 > BLOCK_BYTES ? 2 : 1;
    const bits = (BLOCK_BYTES + end - start) * 8;
    tail.writeUInt32BE(Math.floor(bits / 0x1_0000_0000), blocks * BLOCK_BYTES - 8);
    tail.writeUInt32BE(bits >>> 0, blocks * BLOCK_BYTES - 4);
    this.#compress(state, tail, 0);
    if (blocks === 2) this.#compress(state, tail, BLOCK_BYTES);
  }

  #compress(state: Int32Array, bytes: Buffer, offset: number): void {
    const w = this.#w;
    for (let i = 0, o = offset; i < 16; i++, o += 4) w[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = state[0]!;
    let b = state[1]!;
    let c = state[2]!;
    let d = state[3]!;
    let e = state[4]!;
    let f = state[5]!;
    let g = state[6]!;
    let h = state[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    state[0] = (state[0]! + a) | 0;
    state[1] = (state[1]! + b) | 0;
    state[2] = (state[2]! + c) | 0;
    state[3] = (state[3]! + d) | 0;
    state[4] = (state[4]! + e) | 0;
    state[5] = (state[5]! + f) | 0;
    state[6] = (state[6]! + g) | 0;
    state[7] = (state[7]! + h) | 0;
  }
}

function writeState(state: Int32Array, out: Buffer): void {
  for (let i = 0; i < 8; i++) out.writeInt32BE(state[i]!, 4 * i);
}
