// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { defineStruct, encodeArray, encodeStruct, readField } from '../../../lib/backends/uapi-struct.js';

const INNER = defineStruct('struct inner', 8, { a: 0, b: [4, 's32'] });
const OUTER = defineStruct('struct outer', 24, { h: [0, 'u16'], x: 4, big: [8, 'u64'], inner: [16, INNER] });

describe('encodeStruct', () => {
  it('writes each field little endian at its offset and zeroes the rest', () => {
    expect([...encodeStruct(OUTER, { h: 0x0102, big: 0x0807060504030201n, inner: { b: -2 } })]).toEqual([
      2, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,
    ]);
  });

  it('keeps a u64 exact past 2^53', () => {
    expect(readField(OUTER, encodeStruct(OUTER, { big: (1n << 64n) - 1n }), 'big')).toBe((1n << 64n) - 1n);
  });

  it.each([
    ['a u32 above 2^32-1', { x: 0x1_0000_0000 }],
    ['a negative u32', { x: -1 }],
    ['a u16 above 0xffff', { h: 0x10000 }],
    ['a u64 of 2^64', { big: 1n << 64n }],
    ['an s32 below -2^31', { inner: { b: -0x80000001 } }],
    ['an unsafe number', { big: 2 ** 53 + 2 }],
  ])('refuses %s with ERR_OUT_OF_RANGE', (_name, values) => {
    expect(() => encodeStruct(OUTER, values)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('refuses a field the struct does not have', () => {
    expect(() => encodeStruct(OUTER, { nope: 1 })).toThrow(/struct outer has no field 'nope'/);
  });
});

describe('defineStruct', () => {
  it('refuses a field that sticks out of the struct', () => {
    expect(() => defineStruct('struct bad', 8, { x: [4, 'u64'] })).toThrow(/lies outside/);
  });
});

describe('encodeArray', () => {
  it('lays elements back to back at the struct size', () => {
    expect([...encodeArray(INNER, [{ a: 1 }, { a: 2 }])]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
  });
});
