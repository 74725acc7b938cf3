import { describe, expect, it } from 'vitest';
import type { CommitFences, GpuVmBackend } from '../../../lib/backends/backend.js';
import { DmaResv, SoftwareFence } from '../../../lib/fence/index.js';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, Vm, VM_BO_POLICIES, type VmBoPolicy } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

describe('reservations of the VM layer carry fences', () => {
  it('every Bo and the Vm have a DmaResv; a VM-private BO shares the VM\'s, fences included', async () => {
    const vm = new Vm({ policy: 'resv', start: 0, range: 1n << 32n });
    const ext = new Bo(0x1000, { name: 'ext' });
    const priv = new Bo(0x1000, { name: 'priv', resv: vm.resv });
    expect(vm.resv).toBeInstanceOf(DmaResv);
    expect(ext.resv).toBeInstanceOf(DmaResv);
    expect(priv.resv).toBe(vm.resv);
    const job = new SoftwareFence({ name: 'job' });
    await runTask('submit', async () => {
      using _g = await priv.resv.lock();
      priv.resv.reserveFences(1);
      priv.resv.addFence(job, 'bookkeep');
    });
    expect(vm.resv.fences('bookkeep').map((f) => f.fence)).toEqual([job]);
    expect(ext.resv.testSignaled('bookkeep')).toBe(true);
  });
});

const P = 0x1000n;
const tick = () => new Promise<void>((r) => setImmediate(r));

function rig(policy: VmBoPolicy = 'resv') {
  const vm = new Vm({ name: 'vm', policy, start: 0, range: 1n << 32n });
  const ext = new Bo(16n * P, { name: 'ext' });
  const priv = new Bo(16n * P, { name: 'priv', resv: vm.resv });
  return { vm, ext, priv };
}

const layout = (vm: Vm) => vm.mappings().map((va) => [va.addr, va.range, va.obj?.name ?? null]);

/** A job's fence added to the VM and its extobjs the way a driver submits: exec_lock, add, unlock. */
async function submitJob(vm: Vm, usage: 'bookkeep' | 'kernel' = 'bookkeep', extobjUsage: 'bookkeep' | 'write' | 'kernel' = usage): Promise<SoftwareFence> {
  const job = new SoftwareFence({ name: 'job' });
  await runTask('submit', async () => {
    using _exec = await vm.execLock({ numFences: 1 });
    vm.addFence(job, { usage, extobjUsage });
  });
  return job;
}

describe('vm.addFence (drm_gpuvm_resv_add_fence)', () => {
  it('adds to the VM\'s reservation with usage and every extobj\'s with extobjUsage', async () => {
    const { vm, ext, priv } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    await vm.map({ addr: P, range: P, bo: priv });
    const job = await submitJob(vm, 'bookkeep', 'write');
    expect(vm.resv.fences()).toEqual([{ fence: job, usage: 'bookkeep' }]);
    expect(ext.resv.fences()).toEqual([{ fence: job, usage: 'write' }]);
    expect(ext.resv.fences('write').map((f) => f.fence)).toEqual([job]);
    expect(vm.resv.fences('read')).toEqual([]);
  });

  it('without the exec locks: ERR_LOCK_NOT_HELD, and no reservation got the fence', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    const job = new SoftwareFence();
    expect(() => vm.addFence(job, { usage: 'bookkeep' })).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
    // The VM's reservation alone is not enough: every extobj's is required too, and checked before any add.
    await runTask('half', async () => {
      using _g = await vm.resv.lock();
      vm.resv.reserveFences(1);
      expect(() => vm.addFence(job, { usage: 'bookkeep' })).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', lockName: 'ext.resv' }));
    });
    expect(vm.resv.fences()).toEqual([]);
    expect(ext.resv.fences()).toEqual([]);
  });

  it('without numFences: ERR_FENCE_NO_SLOT, and no reservation got the fence', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    await runTask('submit', async () => {
      using _exec = await vm.execLock();
      expect(() => vm.addFence(new SoftwareFence(), { usage: 'bookkeep' })).toThrow(expect.objectContaining({ code: 'ERR_FENCE_NO_SLOT' }));
    });
    expect(vm.resv.fences()).toEqual([]);
    expect(ext.resv.fences()).toEqual([]);
  });

  it('with exec: every reservation the exec holds, extobjUsage for all but the VM\'s', async () => {
    const { vm } = rig();
    const other = new Bo(P, { name: 'other' });
    const job = new SoftwareFence();
    await runTask('submit', async () => {
      using exec = await vm.execLockArray([other], 1);
      vm.addFence(job, { usage: 'bookkeep', extobjUsage: 'read', exec });
    });
    expect(vm.resv.fences()).toEqual([{ fence: job, usage: 'bookkeep' }]);
    expect(other.resv.fences()).toEqual([{ fence: job, usage: 'read' }]);
  });

  it.each([
    ['a fence that is not one', { usage: 'bookkeep' }, {} as never, 'ERR_INVALID_ARG_TYPE'],
    ['no options', undefined as never, new SoftwareFence(), 'ERR_INVALID_ARG_TYPE'],
    ['an unknown usage', { usage: 'shared' }, new SoftwareFence(), 'ERR_INVALID_ARG_VALUE'],
    ['an unknown extobjUsage', { usage: 'read', extobjUsage: 'x' }, new SoftwareFence(), 'ERR_INVALID_ARG_VALUE'],
    ['an exec that is not one', { usage: 'read', exec: {} }, new SoftwareFence(), 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s', (_name, options, fence, code) => {
    const { vm } = rig();
    expect(() => vm.addFence(fence, options as never)).toThrow(expect.objectContaining({ code }));
  });

  it('execLock refuses a bad numFences', async () => {
    const { vm } = rig();
    await runTask('t', async () => {
      await expect(vm.execLock({ numFences: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(vm.prepareVm(null as never, 'x' as never)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    });
  });
});

describe('binds with in-fences and an out-fence', () => {
  it('the backend commits a bind with its fences: the in-fences signalled, the out-fence not yet', async () => {
    const seen: { waitFor: readonly SoftwareFence[]; signalled: boolean[]; outSignalled: boolean; same: boolean }[] = [];
    const a = new SoftwareFence();
    const out = new SoftwareFence({ name: 'bind' });
    const backend: GpuVmBackend = {
      name: 'recording',
      commit: (_vm, _ops, fences?: CommitFences | null) => {
        const waitFor = (fences?.waitFor ?? []) as readonly SoftwareFence[];
        seen.push({ waitFor, signalled: waitFor.map((f) => f.signaled), outSignalled: out.signaled, same: fences?.outFence === out });
      },
    };
    const vm = new Vm({ name: 'vm', policy: 'resv', start: 0, range: 1n << 32n, backend });
    const bo = new Bo(4n * P, { name: 'bo' });
    const bind = vm.map({ addr: 0n, range: P, bo, waitFor: [a], outFence: out });
    a.signal();
    await bind;
    await vm.unmap(0n, P);
    expect(seen).toEqual([{ waitFor: [a], signalled: [true], outSignalled: false, same: true }, { waitFor: [], signalled: [], outSignalled: true, same: false }]);
    expect(out.signaled).toBe(true);
  });

  it('a map waits for its in-fences, then signals its out-fence', async () => {
    const { vm, ext } = rig();
    const a = new SoftwareFence();
    const b = new SoftwareFence();
    const out = new SoftwareFence({ name: 'bind' });
    const bind = vm.map({ addr: 0n, range: P, bo: ext, waitFor: [a, b], outFence: out });
    await tick();
    expect(layout(vm)).toEqual([]);
    b.signal();
    await tick();
    expect(layout(vm)).toEqual([]);
    a.signal();
    await bind;
    expect(layout(vm)).toEqual([[0n, P, 'ext']]);
    expect(out.signaled).toBe(true);
    expect(out.error).toBeNull();
  });

  it.each(VM_BO_POLICIES)('%s: an aborted wait rejects with ABORT_ERR and changes nothing; the out-fence carries the error', async (policy) => {
    const { vm, ext } = rig(policy);
    await vm.map({ addr: 0n, range: 2n * P, bo: ext });
    const before = snapshot(vm);
    const ac = new AbortController();
    const out = new SoftwareFence();
    const fence = new SoftwareFence();
    const bind = vm.map({ addr: P, range: 2n * P, bo: ext, offset: 4n * P, waitFor: [fence], signal: ac.signal, outFence: out });
    await tick();
    ac.abort();
    await expect(bind).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(snapshot(vm)).toEqual(before);
    expect(out.error).toMatchObject({ code: 'ABORT_ERR' });
    fence.signal();
    await tick();
    expect(snapshot(vm)).toEqual(before);
  });

  it('a signal aborted before the call refuses the bind even with nothing to wait for', async () => {
    const { vm, ext } = rig();
    await expect(vm.map({ addr: 0n, range: P, bo: ext, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(layout(vm)).toEqual([]);
  });

  it.each(VM_BO_POLICIES)('%s: a timed-out wait fails with ERR_VM_FENCE_TIMEOUT (ETIME) and changes nothing', async (policy) => {
    const { vm, ext } = rig(policy);
    await vm.map({ addr: 0n, range: 2n * P, bo: ext });
    const before = snapshot(vm);
    await expect(vm.unmap(0n, P, { waitFor: [new SoftwareFence()], timeoutMs: 5 })).rejects.toMatchObject({ code: 'ERR_VM_FENCE_TIMEOUT', kernelError: 'ETIME' });
    expect(snapshot(vm)).toEqual(before);
  });

  it('an in-fence signalled with an error fails the bind (ERR_VM_FENCE_ERROR, its cause) and changes nothing', async () => {
    const { vm, ext } = rig();
    const fence = new SoftwareFence({ name: 'copy' });
    const cause = new Error('GPU fault');
    fence.signal(cause);
    const out = new SoftwareFence();
    await expect(vm.map({ addr: 0n, range: P, bo: ext, waitFor: [fence], outFence: out })).rejects.toMatchObject({ code: 'ERR_VM_FENCE_ERROR', cause });
    expect(layout(vm)).toEqual([]);
    expect(out.error).toMatchObject({ code: 'ERR_VM_FENCE_ERROR' });
  });

  it('a bind that fails in its transaction signals its out-fence with that error', async () => {
    const { vm, ext } = rig();
    const out = new SoftwareFence();
    await expect(vm.map({ addr: 0n, range: 0n, bo: ext, outFence: out })).rejects.toMatchObject({ code: 'ERR_GPUVM_ZERO_RANGE' });
    expect(out.error).toMatchObject({ code: 'ERR_GPUVM_ZERO_RANGE' });
  });

  it.each([
    ['waitFor not an array', { waitFor: new SoftwareFence() }, 'ERR_INVALID_ARG_TYPE'],
    ['waitFor holding a non-fence', { waitFor: [new SoftwareFence(), 7] }, 'ERR_INVALID_ARG_TYPE'],
    ['an outFence without signal()', { outFence: {} }, 'ERR_INVALID_ARG_TYPE'],
    ['an outFence signalled already', { outFence: SoftwareFence.signaled() }, 'ERR_INVALID_ARG_VALUE'],
    ['a bad timeout', { timeoutMs: 'soon' }, 'ERR_INVALID_ARG_TYPE'],
    ['a bad signal', { signal: {} }, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s before anything waits', async (_name, options, code) => {
    const { vm, ext } = rig();
    await expect(vm.map({ addr: 0n, range: P, bo: ext, ...(options as object) })).rejects.toMatchObject({ code });
    await expect(vm.unmap(0n, P, options as never)).rejects.toMatchObject({ code });
    expect(layout(vm)).toEqual([]);
  });
});

describe('binds wait for the jobs of the VM (its reservation\'s fences)', () => {
  it.each(VM_BO_POLICIES)('%s: an unmap waits for the VM\'s BOOKKEEP fences and finishes when they signal', async (policy) => {
    const { vm, ext } = rig(policy);
    await vm.map({ addr: 0n, range: P, bo: ext });
    const job = await submitJob(vm, 'bookkeep');
    const unbind = vm.unmap(0n, P);
    await tick();
    expect(layout(vm)).toEqual([[0n, P, 'ext']]);
    job.signal();
    await unbind;
    expect(layout(vm)).toEqual([]);
  });

  it('a map that replaces a mapping waits for BOOKKEEP fences; a map into free space does not', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    const job = await submitJob(vm, 'bookkeep');
    await vm.map({ addr: 4n * P, range: P, bo: ext });
    const replace = vm.map({ addr: 0n, range: P, bo: ext, offset: P });
    await tick();
    expect(layout(vm)).toEqual([[0n, P, 'ext'], [4n * P, P, 'ext']]);
    expect(vm.mappings()[0]!.offset).toBe(0n);
    job.signal();
    await replace;
    expect(vm.mappings()[0]!.offset).toBe(P);
  });

  it.each(VM_BO_POLICIES)('%s with bindsWaitForJobs: a map into free space and a commit of only maps wait for BOOKKEEP fences too', async (policy) => {
    const vm = new Vm({ name: 'vm', policy, start: 0, range: 1n << 32n, bindsWaitForJobs: true });
    const ext = new Bo(16n * P, { name: 'ext' });
    const job = await submitJob(vm, 'bookkeep');
    const bind = vm.map({ addr: 4n * P, range: P, bo: ext });
    await tick();
    expect(layout(vm)).toEqual([]);
    job.signal();
    await bind;
    expect(layout(vm)).toEqual([[4n * P, P, 'ext']]);
    const second = await submitJob(vm, 'bookkeep');
    const commit = vm.commit(vm.gpuvm.smMapOps({ addr: 8n * P, range: P, obj: null, offset: 0n }));
    await tick();
    expect(layout(vm)).toEqual([[4n * P, P, 'ext']]);
    second.signal();
    await commit;
    expect(layout(vm)).toEqual([[4n * P, P, 'ext'], [8n * P, P, null]]);
  });

  it('refuses a bindsWaitForJobs that is not a boolean', () => {
    expect(() => new Vm({ policy: 'resv', start: 0, range: 1n << 32n, bindsWaitForJobs: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('every bind waits for the VM\'s KERNEL fences', async () => {
    const { vm, ext } = rig();
    const move = await submitJob(vm, 'kernel');
    const bind = vm.map({ addr: 0n, range: P, bo: ext });
    await tick();
    expect(layout(vm)).toEqual([]);
    move.signal();
    await bind;
    expect(layout(vm)).toEqual([[0n, P, 'ext']]);
  });

  it('an aborted unmap waiting for a job changes nothing; a later one completes after the job', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: 2n * P, bo: ext });
    const job = await submitJob(vm);
    const before = snapshot(vm);
    const ac = new AbortController();
    const aborted = vm.unmap(0n, P, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(snapshot(vm)).toEqual(before);
    const out = new SoftwareFence();
    const unbind = vm.unmap(0n, P, { outFence: out });
    job.signal();
    await unbind;
    expect(out.signaled).toBe(true);
    expect(layout(vm)).toEqual([[P, P, 'ext']]);
  });

  it('commit of staged ops that unmap waits for the BOOKKEEP fences too', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    const job = await submitJob(vm);
    const commit = vm.commit(vm.gpuvm.smUnmapOps(0n, P));
    await tick();
    expect(layout(vm)).toEqual([[0n, P, 'ext']]);
    job.signal();
    await commit;
    expect(layout(vm)).toEqual([]);
  });
});

describe('eviction waits for the BO\'s fences (bo.evictWhenIdle)', () => {
  it('evicts once every fence of the BO signalled; false on timeout and ABORT_ERR on abort change nothing', async () => {
    const { vm, ext } = rig();
    await vm.map({ addr: 0n, range: P, bo: ext });
    const job = await submitJob(vm, 'bookkeep', 'write');
    const vmBo = vm.pairs()[0]!;
    await runTask('evict', async () => {
      using g = await ext.resv.lock();
      await expect(ext.evictWhenIdle(g, { timeoutMs: 5 })).resolves.toBe(false);
      expect(vm.isEvicted(vmBo)).toBe(false);
      const ac = new AbortController();
      const aborted = ext.evictWhenIdle(g, { signal: ac.signal });
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
      expect(vm.isEvicted(vmBo)).toBe(false);
      expect(vm.evictList.entries()).toEqual([]);
      const evicting = ext.evictWhenIdle(g);
      await tick();
      expect(vm.isEvicted(vmBo)).toBe(false);
      job.signal();
      await expect(evicting).resolves.toBe(true);
      expect(vm.isEvicted(vmBo)).toBe(true);
    });
  });

  it('requires the BO\'s reservation', async () => {
    const { ext, vm } = rig();
    await runTask('evict', async () => {
      using g = await vm.resv.lock();
      await expect(ext.evictWhenIdle(g)).rejects.toMatchObject({ code: 'ERR_LOCK_GUARD_WRONG_LOCK' });
    });
  });
});
