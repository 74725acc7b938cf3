// SPDX-License-Identifier: MIT
// The vgpuvm module's own checks (kmod/vgpuvm/smoke.c): split/merge tables in both modes, rejected requests
// that must change nothing, a seeded fuzz of the ioctls, concurrent binders in several processes on shared
// BOs, and every VM, vm_bo, mapping and BO freed at the end; then the kernel log must hold no WARN, BUG
// or oops.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { kernelTrouble } from './kernel-log.js';

const setup = await findVgpuvm();
// A suite that cannot run says so: a skip is not a pass.
if (!setup.ready) process.stderr.write(`vgpuvm smoke: NOT RUN (skipped, not passed): ${setup.reason}\n`);

/** Fuzz requests; the concurrent phase runs a quarter of them in each of four processes. */
const FUZZ_REQUESTS = 20000;

describe.skipIf(!setup.ready)('vgpuvm module', () => {
  it.each([1, 2, 3])('passes its smoke test with fuzz seed %i', (seed) => {
    if (!setup.ready) return;
    const result = spawnSync(setup.tool('smoke'), [setup.node, String(FUZZ_REQUESTS), String(seed)], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/vgpuvm-smoke: \d+ passed, 0 failed/);
    expect(result.status).toBe(0);
  }, 600_000);

  it('leaves no WARN, BUG or oops in the kernel log', () => {
    expect(kernelTrouble()).toEqual([]);
  });
});
