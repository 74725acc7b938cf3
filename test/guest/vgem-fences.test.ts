// SPDX-License-Identifier: MIT
// Real fences on vgem (inside `drm-gpuvm vm`, both kernels): a job is a vgem fence attached to the BOs it
// uses, the kernel puts it in their dma_resv, and the package reads it back through the dma-buf (poll) and
// a sync_file. An unbind waits for such a job; a bind's out-fence is a sync_file another process could wait
// on; and the random sequences of the software-device suite run with vgem jobs.
import { describe, expect, it } from 'vitest';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import type { GemBuffer } from '../../lib/drm/gem-buffer.js';
import { VgemJob } from '../../lib/drm/vgem-job.js';
import { SoftwareFence } from '../../lib/fence/software-fence.js';
import { runTask } from '../../lib/locks/task.js';
import { mulberry32 } from '../../lib/mulberry32.js';
import { fenceSequence, type TestJob } from '../support/fence-sequence.js';
import { P, WindowRig } from '../support/va-window-checks.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const nodes = findVgem();
reportNotRun('vgem fences', nodes);

function openVgem(): DrmDevice {
  return DrmDevice.open(nodes.ready ? nodes.card : '');
}

const bufferOf = (rig: WindowRig, bo: number): GemBuffer => rig.backend.bufferOf(rig.bos[bo]!.gem) as GemBuffer;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!nodes.ready)('fences on vgem', { timeout: 120_000 }, () => {
  it('a vgem job on a BO is a Fence read back from the kernel: its dma-buf polls busy until it signals', async () => {
    using device = openVgem();
    using rig = new WindowRig(device, 8, 1, 4);
    using dmaBuf = bufferOf(rig, 0).exportDmaBuf();
    using job = VgemJob.start([bufferOf(rig, 0)]);
    expect(job.signaled).toBe(false);
    expect(dmaBuf.isIdle('write')).toBe(false);
    expect(job.syncFile.info().fences.map((f) => [f.driver, f.status])).toEqual([['vgem', 'active']]);
    await expect(job.wait({ timeoutMs: 20 })).resolves.toBe(false);
    const waiting = job.wait();
    job.signal();
    await expect(waiting).resolves.toBe(true);
    expect(job.signaled).toBe(true);
    expect(job.error).toBeNull();
    expect(dmaBuf.isIdle('write')).toBe(true);
  });

  it('an unbind waits for a pending vgem job in the VM\'s reservation and finishes when it signals', async () => {
    using device = openVgem();
    using rig = new WindowRig(device, 8, 1, 4);
    await rig.map(0, 2, 0, 0);
    using dmaBuf = bufferOf(rig, 0).exportDmaBuf();
    using job = VgemJob.start([bufferOf(rig, 0)]);
    await runTask('submit', async () => {
      using _exec = await rig.vm.execLock({ numFences: 1 });
      rig.vm.addFence(job, { usage: 'bookkeep' });
    });
    expect(rig.bos[0]!.resv.fences().map((f) => f.fence)).toEqual([job]);
    const unbind = rig.vm.unmap(0n, 2n * P);
    await sleep(200);
    // Still bound: the window still shows the BO's pages, and the kernel still has the fence.
    rig.checkAllPages();
    expect(dmaBuf.isIdle('write')).toBe(false);
    job.signal();
    await unbind;
    rig.model.fill(null, 0, 2);
    rig.checkAllPages();
    expect(dmaBuf.isIdle('write')).toBe(true);
  });

  it('an aborted unbind waiting for a vgem job changes nothing', async () => {
    using device = openVgem();
    using rig = new WindowRig(device, 8, 1, 4);
    await rig.map(0, 2, 0, 0);
    using job = VgemJob.start([bufferOf(rig, 0)]);
    await runTask('submit', async () => {
      using _exec = await rig.vm.execLock({ numFences: 1 });
      rig.vm.addFence(job, { usage: 'bookkeep' });
    });
    const before = rig.snapshot();
    const ac = new AbortController();
    const unbind = rig.vm.unmap(0n, P, { signal: ac.signal });
    await sleep(20);
    ac.abort();
    await expect(unbind).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(rig.snapshot()).toEqual(before);
    job.signal();
  });

  it('a bind\'s out-fence as a sync_file: active until the bind is done, signalled after', async () => {
    using device = openVgem();
    using rig = new WindowRig(device, 8, 2, 4);
    const inFence = new SoftwareFence({ name: 'upload' });
    using out = VgemJob.start([bufferOf(rig, 1)], { name: 'bind-done' });
    const bind = rig.vm.map({ addr: 0n, range: 2n * P, bo: rig.bos[0]!, waitFor: [inFence], outFence: out });
    const waiter = out.syncFile.wait();
    await sleep(50);
    expect(out.syncFile.isSignaled()).toBe(false);
    expect(out.syncFile.info().status).toBe('active');
    expect(rig.vm.mappings()).toEqual([]);
    inFence.signal();
    await bind;
    await expect(waiter).resolves.toBe(true);
    expect(out.syncFile.info().status).toBe('signaled');
    rig.model[0] = [0, 0];
    rig.model[1] = [0, 1];
    rig.checkAllPages();
  });

  it('random jobs (vgem fences), binds and evictions, fences signalled in random order (4 seeded sequences of 40 steps)', async () => {
    const totals = { jobs: 0, waited: 0, aborted: 0, timedOut: 0, completed: 0, refused: 0 };
    for (let seed = 1; seed <= 4; seed++) {
      using device = openVgem();
      using rig = new WindowRig(device, 16, 3, 6);
      const random = mulberry32(seed + 100);
      const jobs: VgemJob[] = [];
      const makeJob = (): TestJob => {
        // Read jobs on one BO each: vgem lets readers pile up, and refuses a writer while work is pending.
        const job = VgemJob.start([bufferOf(rig, Math.floor(random() * rig.bos.length))]);
        jobs.push(job);
        return { fence: job, signal: () => job.signal() };
      };
      try {
        const counts = await fenceSequence(rig, seed, 40, makeJob);
        for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += counts[key];
      } finally {
        for (const job of jobs) {
          job.signal();
          job.close();
        }
      }
    }
    process.stderr.write(`vgem fences: ${JSON.stringify(totals)}\n`);
    expect(totals.jobs).toBeGreaterThan(0);
    expect(totals.waited + totals.aborted + totals.timedOut).toBeGreaterThan(0);
  });
});
