// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../lib/mulberry32.js';

describe('mulberry32', () => {
  it('yields the published mulberry32 sequence for seed 1', () => {
    const random = mulberry32(1);
    expect([random(), random(), random()].map((x) => x * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('replays the same sequence from the same seed', () => {
    const a = mulberry32(0x1234);
    const b = mulberry32(0x1234);
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
  });

  it('takes the seed modulo 2^32, so a seed past 32 bits still replays', () => {
    const a = mulberry32(7);
    const b = mulberry32(7 + 4294967296);
    expect([a(), a()]).toEqual([b(), b()]);
  });

  it('returns numbers in [0, 1)', () => {
    const random = mulberry32(99);
    for (let i = 0; i < 1000; i++) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
