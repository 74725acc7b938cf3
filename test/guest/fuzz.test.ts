// SPDX-License-Identifier: MIT
// Fuzz batches on vgem, inside `drm-gpuvm vm` on each kernel: the public API with DrmDevice.open on the
// card and render nodes among its calls, and the raw addon with those nodes among the paths it opens, so
// that hostile arguments reach the driver's real ioctls. Every class of hostile input (test/fuzz/batches.ts),
// each batch in a child process; then the kernel log must hold no WARN, BUG or oops. CI runs 4,000 calls
// under software emulation; the full run is 100,000 per kernel, in two parts of 50,000 whose batches have
// distinct seeds (FUZZ_GUEST_PART), so that each part is one sitting of the VM of a few minutes:
//   for part in 1 2; do FUZZ_GUEST_CALLS=50000 FUZZ_GUEST_PART=$part node dist/cli/main.js vm --kernel sid -- node node_modules/vitest/vitest.mjs run --project guest test/guest/fuzz.test.ts; done
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClean, plan, runBatch } from '../fuzz/batches.js';
import { kernelTrouble } from './kernel-log.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('fuzz on vgem', vgem);
const drmPaths = vgem.ready ? [vgem.card, vgem.render] : [];
const total = Number(process.env.FUZZ_GUEST_CALLS ?? 4000);
const part = Number(process.env.FUZZ_GUEST_PART ?? 1);
if (!Number.isSafeInteger(total) || total < 2 || !Number.isSafeInteger(part) || part < 1) {
  throw new Error('FUZZ_GUEST_CALLS must be an integer of at least 2 and FUZZ_GUEST_PART a positive integer');
}
// Batches of at most 12,500 calls: under TCG a child takes about 40 s to start and then makes a few hundred
// calls a second, so a batch stays a few minutes long. Part n of a run takes the seeds after part n - 1's.
const perPart = plan(Math.ceil(total / 2), 2, 12_500);
const batches = plan(Math.ceil(total / 2), 2, 12_500, (part - 1) * perPart.length + 1);

describe.skipIf(!vgem.ready)('fuzzing on vgem', () => {
  let troubleBefore: string[] = [];
  beforeAll(() => {
    troubleBefore = kernelTrouble();
  });

  it.each(batches)('raw addon: $calls calls (seed $seed) on vgem, no crash, fds and records back to the start', ({ seed, calls }) => {
    expectClean(runBatch('native', seed, calls, { drmPaths, timeoutMs: 580_000 }));
  }, 600_000);

  it.each(batches)('public API: $calls calls (seed $seed) on vgem, no crash, no untyped error, no wrong memory, no leak', ({ seed, calls }) => {
    expectClean(runBatch('api', seed, calls, { drmPaths, timeoutMs: 580_000 }));
  }, 600_000);

  it('leaves no WARN, BUG or oops in the kernel log', () => {
    expect(kernelTrouble().slice(troubleBefore.length)).toEqual([]);
  });
});
