// SPDX-License-Identifier: MIT
// VmBo lifetime: one per (VM, GEM), refcounts, link/unlink, the staged and immediate-mode rules, the
// zombie state and deferred cleanup (kernel v6.19), obtainPrealloc, `using`.
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { VmBo } from '../../../lib/gpuvm/vm-bo.js';

function setup(immediateMode = false): { vm: GpuVm; obj: GemObject; freed: VmBo[] } {
  const freed: VmBo[] = [];
  const vm = new GpuVm({ start: 0, range: 0x100000, immediateMode, vmBoFree: (vmBo) => freed.push(vmBo) });
  return { vm, obj: new GemObject(0x10000, 'bo'), freed };
}

function mapped(vm: GpuVm, obj: GemObject, addr: number): GpuVa {
  const va = new GpuVa({ addr, range: 0x1000, obj, offset: 0 });
  vm.insert(va);
  return va;
}

describe('staged mode (obtain = drm_gpuvm_bo_obtain_locked)', () => {
  it('obtain returns one VmBo per (VM, GEM) and counts references', () => {
    const { vm, obj } = setup();
    const a = vm.obtain(obj);
    const b = vm.obtain(obj);
    expect(a).toBe(b);
    expect(a.refcount).toBe(2);
    expect(a.state).toBe('listed');
    expect([...obj.vmBos()]).toEqual([a]);
  });

  it('different VMs get different VmBos for one GEM', () => {
    const { vm, obj } = setup();
    const other = new GpuVm({ start: 0, range: 0x100000 });
    expect(vm.obtain(obj)).not.toBe(other.obtain(obj));
    expect([...obj.vmBos()]).toHaveLength(2);
  });

  it('findVmBo returns the listed VmBo with a new reference, or null', () => {
    const { vm, obj } = setup();
    expect(vm.findVmBo(obj)).toBeNull();
    const vmBo = vm.obtain(obj);
    expect(vm.findVmBo(obj)).toBe(vmBo);
    expect(vmBo.refcount).toBe(2);
  });

  it('the last put destroys: off the GEM list, vmBoFree called once, true returned', () => {
    const { vm, obj, freed } = setup();
    const vmBo = vm.obtain(obj);
    vmBo.get();
    expect(vmBo.put()).toBe(false);
    expect(freed).toEqual([]);
    expect(vmBo.put()).toBe(true);
    expect(freed).toEqual([vmBo]);
    expect(vmBo.state).toBe('freed');
    expect(vm.findVmBo(obj)).toBeNull();
  });

  it('a put or get after the last put is refused', () => {
    const { vm, obj } = setup();
    const vmBo = vm.obtain(obj);
    vmBo.put();
    expect(() => vmBo.put()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_REFCOUNT' }));
    expect(() => vmBo.get()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_REFCOUNT' }));
  });

  it('link takes a reference and unlink of the last VA destroys the VmBo', () => {
    const { vm, obj, freed } = setup();
    const vmBo = vm.obtain(obj);
    const v1 = mapped(vm, obj, 0x1000);
    const v2 = mapped(vm, obj, 0x2000);
    v1.link(vmBo);
    v2.link(vmBo);
    vmBo.put(); // the obtain reference; the links keep it alive
    expect(vmBo.refcount).toBe(2);
    expect([...vmBo.gpuvas()]).toEqual([v1, v2]);
    v1.unlink();
    expect([...vmBo.gpuvas()]).toEqual([v2]);
    expect(freed).toEqual([]);
    v2.unlink();
    expect(v2.vmBo).toBeNull();
    expect(freed).toEqual([vmBo]);
  });

  it('link and unlink do nothing for a sparse VA', () => {
    const { vm, obj } = setup();
    const vmBo = vm.obtain(obj);
    const sparse = new GpuVa({ addr: 0x1000, range: 0x1000 });
    sparse.link(vmBo);
    expect(sparse.vmBo).toBeNull();
    expect(vmBo.refcount).toBe(1);
    sparse.unlink();
  });

  it('link refuses a VmBo of another GEM, a second link, and unlink of an unlinked VA', () => {
    const { vm, obj } = setup();
    const va = mapped(vm, obj, 0x1000);
    const other = vm.obtain(new GemObject(0x1000, 'other'));
    expect(() => va.link(other)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_LINK' }));
    expect(() => va.unlink()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_LINK' }));
    const vmBo = vm.obtain(obj);
    va.link(vmBo);
    expect(() => va.link(vmBo)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_LINK' }));
    expect(vmBo.refcount).toBe(2);
  });

  it('putDeferred, unlinkDefer and obtainPrealloc are immediate-mode only', () => {
    const { vm, obj } = setup();
    const vmBo = vm.obtain(obj);
    const va = mapped(vm, obj, 0x1000);
    va.link(vmBo);
    expect(() => vmBo.putDeferred()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_MODE' }));
    expect(() => va.unlinkDefer()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_MODE' }));
    expect(() => vm.obtainPrealloc(vm.createVmBo(obj))).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_MODE' }));
    expect(vmBo.refcount).toBe(2);
  });

  it('`using` drops the reference at scope exit', () => {
    const { vm, obj, freed } = setup();
    {
      using vmBo = vm.obtain(obj);
      expect(vmBo.refcount).toBe(1);
    }
    expect(freed).toHaveLength(1);
  });
});

describe('immediate mode: deferred cleanup (drm_gpuvm_bo_put_deferred, kernel v6.19)', () => {
  it('obtain (obtain_locked) is refused: it would allocate under the gpuva lock', () => {
    const { vm, obj } = setup(true);
    expect(() => vm.obtain(obj)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_MODE' }));
  });

  it('obtainPrealloc lists the spare when the pair has no VmBo yet', () => {
    const { vm, obj, freed } = setup(true);
    const spare = vm.createVmBo(obj);
    expect(spare.state).toBe('created');
    expect(vm.obtainPrealloc(spare)).toBe(spare);
    expect(spare.state).toBe('listed');
    expect(freed).toEqual([]);
  });

  it('obtainPrealloc returns the existing VmBo with a new reference and frees the spare', () => {
    const { vm, obj, freed } = setup(true);
    const first = vm.obtainPrealloc(vm.createVmBo(obj));
    const spare = vm.createVmBo(obj);
    expect(vm.obtainPrealloc(spare)).toBe(first);
    expect(first.refcount).toBe(2);
    expect(freed).toEqual([spare]);
    expect(spare.state).toBe('freed');
  });

  it('the last putDeferred makes a zombie: off the GEM list, not freed until deferredCleanup', () => {
    const { vm, obj, freed } = setup(true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    expect(vmBo.putDeferred()).toBe(true);
    expect(vmBo.zombie).toBe(true);
    expect(vmBo.refcount).toBe(0);
    expect([...obj.vmBos()]).toEqual([]);
    expect(freed).toEqual([]);
    expect(vm.deferredCount).toBe(1);
    expect(vm.deferredCleanup()).toBe(1);
    expect(freed).toEqual([vmBo]);
    expect(vmBo.state).toBe('freed');
    expect(vm.deferredCount).toBe(0);
  });

  it('a zombie cannot be revived: get is refused and obtainPrealloc lists a new VmBo', () => {
    const { vm, obj } = setup(true);
    const old = vm.obtainPrealloc(vm.createVmBo(obj));
    old.putDeferred();
    expect(() => old.get()).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_REFCOUNT' }));
    const fresh = vm.obtainPrealloc(vm.createVmBo(obj));
    expect(fresh).not.toBe(old);
  });

  it('a putDeferred that is not the last only decrements', () => {
    const { vm, obj } = setup(true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    vmBo.get();
    expect(vmBo.putDeferred()).toBe(false);
    expect(vmBo.refcount).toBe(1);
    expect(vm.deferredCount).toBe(0);
  });

  it('unlinkDefer of the last VA queues the VmBo as a zombie', () => {
    const { vm, obj, freed } = setup(true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    const va = mapped(vm, obj, 0x1000);
    va.link(vmBo);
    vmBo.putDeferred();
    va.unlinkDefer();
    expect(vmBo.zombie).toBe(true);
    expect(freed).toEqual([]);
    vm.deferredCleanup();
    expect(freed).toEqual([vmBo]);
  });

  it('`using` drops with putDeferred in immediate mode', () => {
    const { vm, obj } = setup(true);
    {
      using vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
      expect(vmBo.refcount).toBe(1);
    }
    expect(vm.deferredCount).toBe(1);
  });
});
