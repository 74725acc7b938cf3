// SPDX-License-Identifier: MIT
// The range rule of every map(): offset inside the buffer, 1 <= length <= size - offset, exact u64.
import { constants } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapRange } from '../../../lib/drm/dma-buf.js';

describe('mapRange', () => {
  it('accepts exactly the ranges that lie inside the buffer', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 41n }), fc.bigInt({ min: 0n, max: 1n << 41n }),
      (size, offset, length) => {
        // One mapping is one ArrayBuffer: longer than Node's largest one is refused as out of range too.
        const inside = offset < size && length >= 1n && length <= size - offset && length <= BigInt(constants.MAX_LENGTH);
        let accepted: boolean;
        try {
          expect(mapRange({ offset, length }, size)).toEqual({ offset, length });
          accepted = true;
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_OUT_OF_RANGE');
          accepted = false;
        }
        return accepted === inside;
      },
    ));
  });

  it('defaults to the whole buffer', () => {
    expect(mapRange({}, 8192n)).toEqual({ offset: 0n, length: 8192n });
  });

  it('defaults the length to the end of the buffer', () => {
    expect(mapRange({ offset: 4096 }, 16384n)).toEqual({ offset: 4096n, length: 12288n });
  });

  it.each([
    ['a negative offset', { offset: -1 }, 'ERR_OUT_OF_RANGE'],
    ['a NaN length', { length: Number.NaN }, 'ERR_OUT_OF_RANGE'],
    ['an offset of 2^64', { offset: 1n << 64n }, 'ERR_OUT_OF_RANGE'],
    ['an unsafe number', { length: 2 ** 53 }, 'ERR_OUT_OF_RANGE'],
    ['a string offset', { offset: '0' }, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s', (_name, options, code) => {
    expect(() => mapRange(options as never, 1n << 60n)).toThrow(expect.objectContaining({ code }));
  });
});
