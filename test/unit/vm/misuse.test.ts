// The misuse catalogue of the VM layer: each misuse is refused at once with a clear error, and nothing changes.
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, Vm } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

const space = { start: 0, range: 0x100000 };

describe('misuse catalogue', () => {
  it('final put without the lock (resv policy): ERR_LOCK_NO_GUARD, the pair stays', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      const g = await bo.resv.lock();
      const ref = vm.obtain(bo);
      g.release();
      const before = snapshot(vm);
      expect(() => ref.put()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NO_GUARD', message: expect.stringMatching(/last reference .* bo\.resv/) }));
      expect(snapshot(vm)).toEqual(before);
      using g2 = await bo.resv.lock();
      ref.put(g2);
    });
  });

  it('recursive lock: cleanup that takes the VM reservation, called while holding it, fails at once', async () => {
    const vm = new Vm({ policy: 'deferred', resvProtected: true, ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    vm.obtain(bo).put();
    await runTask('driver', async () => {
      using _vmResv = await vm.resv.lock();
      const before = snapshot(vm);
      await expect(vm.deferredCleanup()).rejects.toMatchObject({ code: 'ERR_LOCK_RECURSIVE', message: expect.stringContaining('vm.resv') });
      expect(snapshot(vm)).toEqual(before);
    });
    await expect(vm.deferredCleanup()).resolves.toBe(1);
  });

  it('unlock by a non-owner: ERR_LOCK_NOT_OWNER, the owner keeps the lock', async () => {
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('owner', async () => {
      using g = await bo.resv.lock();
      await runTask('intruder', async () => {
        expect(() => g.release()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_OWNER', message: expect.stringMatching(/intruder#\d+ releases bo\.resv, which is held by owner#/) }));
      });
      expect(bo.resv.isHeld()).toBe(true);
    });
  });

  it('lock order inversion without a ww context: a request made while holding a BO reservation', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x2000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x1000, bo }); // records VA range -> dma_resv
    await runTask('driver', async () => {
      using _g = await bo.resv.lock();
      const before = snapshot(vm);
      await expect(vm.map({ addr: 0x1000, range: 0x1000, bo })).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER', message: expect.stringContaining('inversion') });
      expect(snapshot(vm)).toEqual(before);
    });
  });

  it('lock order without a ww context: a second reservation nested under a first', async () => {
    const a = new Bo(0x1000, { name: 'a' });
    const b = new Bo(0x1000, { name: 'b' });
    await runTask('driver', async () => {
      using _ga = await a.resv.lock();
      await expect(b.resv.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_ORDER' });
      expect(b.resv.owner).toBeNull();
    });
  });

  it('list iteration without the lock: the RESV_PROTECTED extobj list without the VM reservation', async () => {
    const vm = new Vm({ policy: 'resv', resvProtected: true, ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x1000, bo });
    await runTask('driver', async () => {
      expect(() => vm.extobjList.entries()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringContaining('vm.extobj') }));
      using _g = await vm.resv.lock();
      expect(vm.extobjList.entries()).toHaveLength(1);
    });
  });

  it("list iteration without the lock: a BO's pairs without its reservation (resv policy)", async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x1000, bo });
    await runTask('driver', async () => {
      expect(() => bo.vmBos()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD' }));
      using g = await bo.resv.lock();
      expect(bo.vmBos(g)).toHaveLength(1);
    });
  });

  it('use of a zombie: taking a reference to a pair whose last reference went', async () => {
    const vm = new Vm({ policy: 'deferred', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const ref = vm.obtain(bo);
    const pair = ref.vmBo;
    ref.put();
    const before = snapshot(vm);
    expect(() => pair.get()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_REFCOUNT', message: expect.stringContaining('zombie') }));
    expect(() => ref.vmBo).toThrow(expect.objectContaining({ code: 'ERR_VM_REF_RELEASED' }));
    expect(() => ref.put()).toThrow(expect.objectContaining({ code: 'ERR_VM_REF_RELEASED' }));
    expect(snapshot(vm)).toEqual(before);
  });

  it('freeing a VM with live mappings or pairs: ERR_VM_BUSY (the kernel\'s EBUSY), the VM stays usable', async () => {
    const vm = new Vm({ policy: 'gpuva-lock', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x1000, bo });
    const ref = vm.obtain(bo);
    const before = snapshot(vm);
    expect(() => vm.close()).toThrow(expect.objectContaining({ code: 'ERR_VM_BUSY', kernelError: 'EBUSY', message: expect.stringMatching(/1 mapping\(s\), 1 pair\(s\) \(1 reference\(s\) held\)/) }));
    expect(snapshot(vm)).toEqual(before);
    expect(vm.closed).toBe(false);
    await vm.unmap(0, 0x1000);
    expect(() => vm.close()).toThrow(expect.objectContaining({ code: 'ERR_VM_BUSY' }));
    ref.put();
    vm.close();
    await expect(vm.map({ addr: 0, range: 0x1000, bo })).rejects.toMatchObject({ code: 'ERR_VM_CLOSED' });
  });

  it('applying a stale op list: ERR_GPUVM_STALE_OPS before anything is committed', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const a = new Bo(0x4000, { name: 'a' });
    const ops = vm.gpuvm.smMapOps({ addr: 0, range: 0x2000, obj: a.gem });
    await vm.map({ addr: 0x1000, range: 0x2000, bo: a });
    const before = snapshot(vm);
    await expect(vm.commit(ops)).rejects.toMatchObject({ code: 'ERR_GPUVM_STALE_OPS' });
    expect(snapshot(vm)).toEqual(before);
    const fresh = vm.gpuvm.smMapOps({ addr: 0, range: 0x2000, obj: a.gem });
    await vm.commit(fresh);
    await expect(vm.commit(fresh)).rejects.toMatchObject({ code: 'ERR_GPUVM_STALE_OPS' });
  });

  it('a GEM the VM layer did not make, or a Bo used through a bare GpuVm: typed errors, nothing changed', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const raw = new GemObject(0x1000, 'raw');
    const before = snapshot(vm);
    await expect(vm.commit(vm.gpuvm.smMapOps({ addr: 0, range: 0x1000, obj: raw }))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining("GEM 'raw'") });
    expect(snapshot(vm)).toEqual(before);
    const bo = new Bo(0x1000, { name: 'bo' });
    new GpuVm({ name: 'bare', start: 0, range: 0x100000 }).obtain(bo.gem);
    await runTask('driver', async () => {
      using g = await bo.resv.lock();
      expect(() => bo.evict(g)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_WRONG_VM', message: expect.stringContaining("'bare'") }));
    });
  });
});
