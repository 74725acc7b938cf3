// SPDX-License-Identifier: MIT
// The lib/gpu property test on the software device (test/support/gpu-property.ts): 40 seeded sequences of
// up to 30 steps; GPU_PROPERTY_RUNS and GPU_PROPERTY_SEED for more or other ones.
import { expect, it } from 'vitest';
import { openGpu } from '../../lib/gpu/open-gpu.js';
import { gpuProperty } from '../support/gpu-property.js';

const runs = Number(process.env.GPU_PROPERTY_RUNS ?? 40);
const seed = Number(process.env.GPU_PROPERTY_SEED ?? 13);

it(`random map/unmap/evict/validate/job sequences through openGpu('software') (${runs} runs, seed ${seed})`, async () => {
  const total = await gpuProperty(() => openGpu('software'), runs, 30, seed);
  process.stderr.write(`gpu property (software): ${JSON.stringify(total)}\n`);
  expect(total.sequences).toBe(runs);
  expect(total.waited).toBeGreaterThan(0);
}, 120_000);
