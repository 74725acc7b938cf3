import { describe, expect, it } from 'vitest';
import { toU64, toUnsigned, U64_MAX } from '../../lib/u64.js';

describe('toU64', () => {
  it('accepts exact values up to 2^64-1', () => {
    expect(toU64(0, 'x')).toBe(0n);
    expect(toU64(Number.MAX_SAFE_INTEGER, 'x')).toBe(2n ** 53n - 1n);
    expect(toU64(U64_MAX, 'x')).toBe(2n ** 64n - 1n);
  });
  it.each([
    [-1, RangeError], [-1n, RangeError], [2n ** 64n, RangeError], [2 ** 53, RangeError], [NaN, RangeError],
    [Infinity, RangeError], [1.5, RangeError], ['1', TypeError], [null, TypeError], [undefined, TypeError], [{}, TypeError],
  ])('refuses %s with %s', (value, kind) => {
    expect(() => toU64(value, 'size')).toThrow(kind);
  });
  it('names the argument and carries a Node-style code', () => {
    expect(() => toU64(-1, 'size')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('"size"') }));
    expect(() => toU64('1', 'size')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
  it('toUnsigned enforces its upper bound', () => {
    expect(toUnsigned(0xffffffff, 'h', 0xffffffffn)).toBe(0xffffffffn);
    expect(() => toUnsigned(2 ** 32, 'h', 0xffffffffn)).toThrow(RangeError);
  });
});
