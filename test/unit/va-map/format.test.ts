// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { formatAddress, formatSize } from '../../../lib/va-map/format.js';

describe('formatAddress', () => {
  it.each([
    [0n, '0x0'], [0xfffn, '0xfff'], [0x1000n, '0x1000'], [0x10000n, '0x1_0000'],
    [0x1_0000_0000n, '0x1_0000_0000'], [2n ** 64n - 1n, '0xffff_ffff_ffff_ffff'], [2n ** 64n, '0x1_0000_0000_0000_0000'],
  ])('%s reads as %s', (value, text) => {
    expect(formatAddress(value)).toBe(text);
  });
});

describe('formatSize', () => {
  it.each([
    [0n, 1, '0 B'], [4095n, 1, '4095 B'], [0x1000n, 1, '4 KiB'], [0x101000n, 1, '1028 KiB'],
    [128n << 20n, 1, '128 MiB'], [2n ** 64n, 1, '16 EiB'],
    [0xbfc0000n, 1, '191.75 MiB'], [(255n << 40n) + (9n << 39n), 1, '259.5 TiB'], [(1n << 40n) + 1n, 1, '\u22481.0 TiB'], [2n ** 64n - 1n, 1, '\u224816.0 EiB'],
    [(255n << 40n) + (9n << 38n), 0, '\u2248257 TiB'], [0x1000n, 0, '4 KiB'], [0xbfc0000n, 0, '\u2248192 MiB'],
    [(1n << 20n) - 1n, 0, '\u22481 MiB'], [(1n << 20n) - 1n, 1, '\u22481.0 MiB'], [(1n << 20n) - 600n, 1, '\u22481023.4 KiB'],
  ])('%s bytes (short: %i) reads as %s', (bytes, short, text) => {
    expect(formatSize(bytes, short === 0)).toBe(text);
  });
});
