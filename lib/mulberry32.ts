// SPDX-License-Identifier: MIT
// One seeded PRNG for the demos, the stress workload and the tests that must replay a run from its seed.

/**
 * mulberry32: a small, fast, seedable PRNG returning numbers in [0, 1). Its quality is ample for picking
 * requests; the same seed always yields the same sequence, so a failing run is replayed from its seed.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
