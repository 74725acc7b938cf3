// SPDX-License-Identifier: MIT
// Random sequences of binds, jobs and evictions with fences, on a WindowRig (the VA window backend over real
// memory), shared by the software device (test/native) and vgem in the VM (test/guest). Jobs' fences land in
// the VM's and the extobjs' reservations; binds wait for in-fences and for the VM's fences; fences signal in
// random order. After every step the window bytes, the tree, the pairs and refcounts agree with the page
// model, and every wait that was aborted or timed out left all of it exactly as it was.
import { expect } from 'vitest';
import { VaWindowError } from '../../lib/backends/va-window-error.js';
import type { Fence } from '../../lib/fence/fence.js';
import { runTask } from '../../lib/locks/task.js';
import { mulberry32 } from '../../lib/mulberry32.js';
import type { VmBo } from '../../lib/gpuvm/vm-bo.js';
import type { Bo } from '../../lib/vm/bo.js';
import { vmInvariantViolations } from '../../lib/vm/invariants.js';
import { P, type WindowRig } from './va-window-checks.js';

/** A job the test controls: its fence, and how to signal it. */
export interface TestJob {
  readonly fence: Fence;
  signal(): void;
}

/** What a sequence did, for the test to check that each kind of step ran. */
export interface FenceSequenceCounts {
  jobs: number;
  signals: number;
  completed: number;
  waited: number;
  aborted: number;
  timedOut: number;
  evicted: number;
  /** Binds the device refused as unsafe (vgem without udmabuf maps BOs from offset 0 only). */
  refused: number;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Everything an aborted or timed-out wait must leave as it was: the rig's snapshot and the evicted marks. */
function state(rig: WindowRig): unknown {
  return { rig: rig.snapshot(), evicted: rig.vm.pairs().map((vmBo) => rig.vm.isEvicted(vmBo)) };
}

function check(rig: WindowRig): void {
  rig.checkAllPages();
  expect(vmInvariantViolations(rig.vm)).toEqual([]);
}

/** Runs `steps` random steps on `rig`; `makeJob` starts a job on the BOs given (the extobjs mapped now). */
export async function fenceSequence(rig: WindowRig, seed: number, steps: number, makeJob: () => TestJob): Promise<FenceSequenceCounts> {
  const random = mulberry32(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const counts: FenceSequenceCounts = { jobs: 0, signals: 0, completed: 0, waited: 0, aborted: 0, timedOut: 0, evicted: 0, refused: 0 };
  const pending: TestJob[] = [];
  const signal = (job: TestJob): void => {
    pending.splice(pending.indexOf(job), 1);
    job.signal();
    counts.signals++;
  };
  // The pending jobs among `fences`, signalled in random order.
  const signalAll = async (fences: readonly Fence[]): Promise<void> => {
    const jobs = pending.filter((job) => fences.includes(job.fence));
    while (jobs.length > 0) {
      signal(jobs.splice(pick(jobs.length), 1)[0]!);
      if (random() < 0.5) await tick();
    }
  };
  const vm = rig.vm;
  for (let s = 0; s < steps; s++) {
    const choice = random();
    if (choice < 0.2) {
      const job = makeJob();
      const usage = random() < 0.15 ? 'kernel' : 'bookkeep';
      await runTask('submit', async () => {
        using _exec = await vm.execLock({ numFences: 1 });
        vm.addFence(job.fence, { usage });
      });
      pending.push(job);
      counts.jobs++;
    } else if (choice < 0.35) {
      if (pending.length > 0) signal(pending[pick(pending.length)]!);
    } else if (choice < 0.85) {
      const first = pick(rig.pages);
      const count = 1 + pick(Math.min(rig.boPages, rig.pages - first));
      const unmap = random() < 0.35;
      const bo = unmap || random() < 0.1 ? null : pick(rig.bos.length);
      // Where only BO offset 0 maps correctly, maps start there (splits may still be refused, below).
      const boPage = bo === null || !rig.backend.plan.anyOffset ? 0 : pick(rig.boPages - count + 1);
      const waitFor = pending.filter(() => random() < 0.3).map((job) => job.fence);
      const removes = rig.model.slice(first, first + count).some((page) => page !== null);
      const vmFences = vm.resv.fences(removes ? 'bookkeep' : 'kernel').map((f) => f.fence);
      const awaited = [...new Set([...waitFor, ...vmFences])];
      const fate = random();
      const ac = new AbortController();
      const timeoutMs = awaited.length > 0 && fate < 0.2 ? 1 : undefined;
      const options = { waitFor, signal: ac.signal, timeoutMs };
      const addr = BigInt(first) * P;
      const range = BigInt(count) * P;
      const before = state(rig);
      const request = unmap
        ? vm.unmap(addr, range, options)
        : vm.map({ addr, range, bo: bo === null ? null : rig.bos[bo]!, offset: BigInt(boPage) * P, ...options });
      // Settled into a value at once: the bind may fail while the test is still signalling its fences.
      const bind = request.then(() => null, (error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      if (timeoutMs !== undefined) {
        await expect(bind).resolves.toMatchObject({ code: 'ERR_VM_FENCE_TIMEOUT' });
        expect(state(rig)).toEqual(before);
        counts.timedOut++;
      } else if (awaited.length > 0 && fate < 0.4) {
        await tick();
        ac.abort();
        await expect(bind).resolves.toMatchObject({ code: 'ABORT_ERR' });
        expect(state(rig)).toEqual(before);
        counts.aborted++;
      } else {
        if (awaited.length > 0) {
          await tick();
          expect(state(rig), 'a bind ran before its fences signalled').toEqual(before);
          await signalAll(awaited);
          counts.waited++;
        }
        const error = await bind;
        if (error !== null) {
          if (!(error instanceof VaWindowError) || error.code !== 'ERR_VA_WINDOW_UNSAFE_MAPPING') throw error;
          expect(state(rig)).toEqual(before);
          counts.refused++;
          check(rig);
          continue;
        }
        for (let i = 0; i < count; i++) rig.model[first + i] = unmap ? null : bo === null ? 'sparse' : [bo, boPage + i];
        counts.completed++;
      }
    } else {
      // Zombies (deferred policy) are off the BO's list: eviction does not reach them.
      const live = (bo: Bo): VmBo[] => vm.pairs().filter((vmBo) => vmBo.obj === bo.gem && !vmBo.zombie);
      const mapped = rig.bos.filter((bo) => live(bo).length > 0);
      if (mapped.length === 0) continue;
      const bo = mapped[pick(mapped.length)]!;
      const fences = bo.resv.fences().map((f) => f.fence);
      await runTask('evict', async () => {
        using guard = await bo.resv.lock();
        const before = state(rig);
        const fate = random();
        if (fences.length > 0 && fate < 0.3) {
          await expect(bo.evictWhenIdle(guard, { timeoutMs: 1 })).resolves.toBe(false);
          expect(state(rig)).toEqual(before);
          counts.timedOut++;
        } else if (fences.length > 0 && fate < 0.5) {
          const ac = new AbortController();
          const evicting = bo.evictWhenIdle(guard, { signal: ac.signal });
          ac.abort();
          await expect(evicting).rejects.toMatchObject({ code: 'ABORT_ERR' });
          expect(state(rig)).toEqual(before);
          counts.aborted++;
        } else {
          const evicting = bo.evictWhenIdle(guard);
          if (fences.length > 0) {
            await tick();
            expect(state(rig), 'an eviction ran before the BO was idle').toEqual(before);
            await signalAll(fences);
          }
          await expect(evicting).resolves.toBe(true);
          expect(live(bo).every((vmBo) => vm.isEvicted(vmBo))).toBe(true);
          // Valid again at once, so the next eviction of this BO is one more real wait.
          bo.evict(guard, false);
          counts.evicted++;
        }
      });
    }
    check(rig);
  }
  await signalAll(pending.map((job) => job.fence));
  await vm.unmap(vm.gpuvm.start, vm.gpuvm.range);
  rig.model.fill(null);
  check(rig);
  return counts;
}
