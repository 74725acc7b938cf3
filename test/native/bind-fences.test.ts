// SPDX-License-Identifier: MIT
// Binds with fences through the VA window backend on the software device: the bytes the window shows, the
// tree, the pairs and the refcounts, after random sequences of jobs, binds and evictions whose fences signal
// in random order, with aborted and timed-out waits that must change nothing. BIND_FENCE_SEQUENCES raises
// the count (CI runs the seeded default).
import { describe, expect, it } from 'vitest';
import { SoftwareDevice } from '../../lib/drm/software-device.js';
import { SoftwareFence } from '../../lib/fence/software-fence.js';
import { VM_BO_POLICIES } from '../../lib/vm/policy.js';
import { fenceSequence, type TestJob } from '../support/fence-sequence.js';
import { P, WindowRig } from '../support/va-window-checks.js';

const sequences = Number(process.env.BIND_FENCE_SEQUENCES ?? 20);

function softwareJob(): TestJob {
  const fence = new SoftwareFence({ name: 'job' });
  return { fence, signal: () => fence.signal() };
}

describe('binds with fences on the software device\'s VA window', () => {
  it.each(VM_BO_POLICIES)(`%s: random jobs, binds and evictions, fences signalled in random order (${sequences} seeded sequences of 60 steps)`, async (policy) => {
    const totals = { jobs: 0, signals: 0, completed: 0, waited: 0, aborted: 0, timedOut: 0, evicted: 0, refused: 0 };
    for (let seed = 1; seed <= sequences; seed++) {
      using device = new SoftwareDevice();
      using rig = new WindowRig(device, 16, 3, 6, policy);
      const counts = await fenceSequence(rig, seed, 60, softwareJob);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += counts[key];
    }
    // Every kind of step happened, so the checks above were exercised; the software device refuses no offset.
    expect(totals.refused).toBe(0);
    for (const [kind, n] of Object.entries(totals)) if (kind !== 'refused') expect(n, kind).toBeGreaterThan(0);
  }, 120_000); // a workload of 20 x 60 steps, not a timing claim: on a loaded machine it outlasts the default 5 s

  it('an unmap waits for a job through the window: the BO page stays readable until the job signals', async () => {
    using device = new SoftwareDevice();
    using rig = new WindowRig(device, 4, 1, 2);
    await rig.map(0, 2, 0, 0);
    const job = softwareJob();
    const { runTask } = await import('../../lib/locks/task.js');
    await runTask('submit', async () => {
      using _exec = await rig.vm.execLock({ numFences: 1 });
      rig.vm.addFence(job.fence, { usage: 'bookkeep' });
    });
    const out = new SoftwareFence({ name: 'unbind' });
    const unbind = rig.vm.unmap(0n, P, { outFence: out });
    await new Promise((resolve) => setTimeout(resolve, 5));
    rig.checkAllPages();
    expect(out.signaled).toBe(false);
    job.signal();
    await unbind;
    rig.model[0] = null;
    rig.checkAllPages();
    expect(out.signaled).toBe(true);
  });
});
