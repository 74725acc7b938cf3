// SPDX-License-Identifier: MIT
// The vgpuvm module's own checks (kmod/vgpuvm/smoke.c): split/merge tables in both modes, rejected requests
// that must change nothing, a seeded fuzz of the ioctls, concurrent binders in several processes on shared
// BOs, the software GPU (jobs, asynchronous binds, syncobjs, fence ordering, teardown with jobs in flight),
// and every VM, vm_bo, mapping, BO, queue and job freed at the end; then the kernel log must hold no WARN,
// BUG or oops, and the module unloads (and loads again for the suites after this one).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

// Unloading needs root and the VM runner's busybox; the runner keeps the module file in its module folder.
const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
const vgpuvmKo = '/tmp/drm-gpuvm-vm/modules/vgpuvm.ko';
const canUnload = setup.ready && process.getuid?.() === 0 && busybox !== undefined && existsSync(vgpuvmKo);
if (setup.ready && !canUnload) process.stderr.write(`vgpuvm unload: NOT RUN (skipped, not passed): needs root, busybox and ${vgpuvmKo} (drm-gpuvm vm provides them)\n`);

describe.skipIf(!canUnload)('vgpuvm module unload', () => {
  it('unloads after the smoke runs (no queue, job or object keeps it) and loads again', async () => {
    const unloaded = spawnSync(busybox!, ['rmmod', 'vgpuvm'], { encoding: 'utf8' });
    try {
      expect(unloaded.stderr).toBe('');
      expect(unloaded.status).toBe(0);
    } finally {
      if (unloaded.status === 0) execFileSync(busybox!, ['insmod', vgpuvmKo]);
    }
    expect((await findVgpuvm()).ready).toBe(true);
    expect(kernelTrouble()).toEqual([]);
  });
});
