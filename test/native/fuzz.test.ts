// SPDX-License-Identifier: MIT
// Fuzz batches on the software device, each in a child process (test/fuzz/child.mjs) that logs every call
// before making it, with every class of hostile input (test/fuzz/batches.ts). A batch passes when the child
// lives to the end with no untyped error, no byte off its tag, and fds and native records back where they
// started. CI runs 120,000 calls; the full run is a million, half on the raw addon, half on the public API:
//   FUZZ_CALLS=1000000 npx vitest run test/native/fuzz.test.ts
import { describe, it } from 'vitest';
import { expectClean, plan, runBatch } from '../fuzz/batches.js';

const total = Number(process.env.FUZZ_CALLS ?? 120_000);
const batches = plan(Math.ceil(total / 2), 3, 50_000);

describe('fuzzing on the software device', () => {
  it.each(batches)('raw addon: $calls calls (seed $seed), no crash, fds and records back to the start', ({ seed, calls }) => {
    expectClean(runBatch('native', seed, calls, { timeoutMs: 300_000 }));
  }, 320_000);

  it.each(batches)('public API: $calls calls (seed $seed), no crash, no untyped error, no wrong memory, no leak', ({ seed, calls }) => {
    expectClean(runBatch('api', seed, calls, { timeoutMs: 300_000 }));
  }, 320_000);
});
