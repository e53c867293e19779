import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { HmacSha256, HMAC_JS_BYTES_MAX } from './hmacSha256.ts';

describe('HmacSha256', () => {
  it('matches node:crypto on every key and message length, on both paths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.uint8Array({ maxLength: HMAC_JS_BYTES_MAX * 2 }),
        fc.nat(8),
        (key, message, lead) => {
          const bytes = Buffer.concat([Buffer.alloc(lead, 0xee), message, Buffer.alloc(3, 0xee)]);
          const got = new HmacSha256(key).digest(bytes, lead, lead + message.length);
          expect(got.toString('hex')).toBe(createHmac('sha256', key).update(message).digest('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches RFC 4231 test case 2', () => {
    const hmac = new HmacSha256(Buffer.from('Jefe'));
    const data = Buffer.from('what do ya want for nothing?');
    expect(hmac.digest(data, 0, data.length).toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('covers every padding boundary around one and two blocks', () => {
    const key = Buffer.alloc(32, 9);
    const hmac = new HmacSha256(key);
    for (let n = 0; n <= 130; n++) {
      const m = Buffer.alloc(n, n);
      expect(hmac.digest(m, 0, n).equals(createHmac('sha256', key).update(m).digest()), `length ${n}`).toBe(true);
    }
  });
});
