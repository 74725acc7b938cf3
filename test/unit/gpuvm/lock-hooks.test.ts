// SPDX-License-Identifier: MIT
// The lock hooks run exactly where the kernel asserts or takes a lock (semantics note §3.2), and a hook
// that throws (a lock policy refusing the call) leaves everything unchanged.
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { GpuVmLockHooks, GpuVmLockSite } from '../../../lib/gpuvm/lock-hooks.js';

type Call = string;

/** Hooks that record `kind:site` and throw for sites listed in `refuse`. */
function recorder(refuse: GpuVmLockSite[] = []): { hooks: GpuVmLockHooks; calls: Call[] } {
  const calls: Call[] = [];
  const record = (kind: string, site: GpuVmLockSite): void => {
    calls.push(`${kind}:${site}`);
    if (refuse.includes(site)) throw new Error(`lock not held for ${site}`);
  };
  return {
    calls,
    hooks: {
      assertGpuvaLockHeld: (_vm, _obj, site) => record('assert', site),
      lockGpuva: (_vm, _obj, site) => record('lock', site),
      unlockGpuva: (_vm, _obj, site) => record('unlock', site),
      mightSleep: (_vm, site) => record('mightSleep', site),
    },
  };
}

const obj = new GemObject(0x100000, 'bo');

function vmWith(hooks: GpuVmLockHooks, immediateMode = false): GpuVm {
  return new GpuVm({ start: 0, range: 0x100000, lockHooks: hooks, immediateMode });
}

describe('where the hooks run (staged mode)', () => {
  it('findVmBo and obtain assert the GEM gpuva lock', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks);
    vm.findVmBo(obj);
    vm.obtain(obj);
    expect(calls).toEqual(['assert:drm_gpuvm_bo_find', 'assert:drm_gpuvm_bo_obtain_locked']);
  });

  it('put calls might_sleep always and asserts the lock only for the last reference', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks);
    const vmBo = vm.obtain(obj).get();
    calls.length = 0;
    vmBo.put();
    expect(calls).toEqual(['mightSleep:drm_gpuvm_bo_put']);
    vmBo.put();
    expect(calls).toEqual(['mightSleep:drm_gpuvm_bo_put', 'mightSleep:drm_gpuvm_bo_put', 'assert:drm_gpuvm_bo_put']);
  });

  it('link, unlink and boUnmapOps assert the lock', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks);
    const vmBo = vm.obtain(obj);
    const va = new GpuVa({ addr: 0, range: 0x1000, obj });
    vm.insert(va);
    calls.length = 0;
    va.link(vmBo);
    vm.boUnmapOps(vmBo);
    va.unlink();
    expect(calls).toEqual(['assert:drm_gpuva_link', 'assert:drm_gpuvm_bo_unmap_ops_create', 'assert:drm_gpuva_unlink', 'mightSleep:drm_gpuvm_bo_put']);
  });

  it('generating split/merge ops touches no lock (the caller serialises the tree)', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks);
    vm.smMapOps({ addr: 0, range: 0x1000, obj, offset: 0 });
    vm.smUnmapOps(0, 0x1000);
    expect(calls).toEqual([]);
  });

  it('apply asserts the lock of every GEM it links or unlinks, before changing anything', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks);
    vm.apply(vm.smMapOps({ addr: 0, range: 0x2000, obj, offset: 0 }));
    expect(calls).toEqual(['assert:drm_gpuva_link']);
    calls.length = 0;
    vm.apply(vm.smMapOps({ addr: 0x1000, range: 0x1000, obj, offset: 0x1000 }));
    expect(calls).toEqual(['assert:drm_gpuva_unlink', 'assert:drm_gpuva_link', 'mightSleep:drm_gpuvm_bo_put']);
  });
});

describe('where the hooks run (immediate mode)', () => {
  it('obtainPrealloc takes and releases the gpuva lock itself', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks, true);
    vm.obtainPrealloc(vm.createVmBo(obj));
    expect(calls).toEqual(['lock:drm_gpuvm_bo_obtain_prealloc', 'unlock:drm_gpuvm_bo_obtain_prealloc']);
  });

  it('putDeferred takes the lock only when the count may reach zero', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks, true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj)).get();
    calls.length = 0;
    vmBo.putDeferred();
    expect(calls).toEqual([]);
    vmBo.putDeferred();
    expect(calls).toEqual(['lock:drm_gpuvm_bo_put_deferred', 'unlock:drm_gpuvm_bo_put_deferred']);
  });

  it('unlinkDefer takes the lock itself', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks, true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    const va = new GpuVa({ addr: 0, range: 0x1000, obj });
    vm.insert(va);
    va.link(vmBo);
    calls.length = 0;
    va.unlinkDefer();
    expect(calls).toEqual(['lock:drm_gpuva_unlink_defer', 'unlock:drm_gpuva_unlink_defer']);
  });

  it('apply in immediate mode makes zombies instead of freeing and does not call might_sleep', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks, true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    vm.apply(vm.smMapOps({ addr: 0, range: 0x1000, obj, offset: 0 }));
    vmBo.putDeferred();
    calls.length = 0;
    vm.apply(vm.smUnmapOps(0, 0x1000));
    expect(calls).toEqual(['assert:drm_gpuva_unlink']);
    expect(vm.deferredCount).toBe(1);
  });
});

describe('immediate mode: apply allocates no VmBo under the gpuva lock', () => {
  it('refuses a MAP of a GEM without a VmBo (ERR_GPUVM_MODE) and changes nothing', () => {
    const { hooks, calls } = recorder();
    const vm = vmWith(hooks, true);
    const ops = vm.smMapOps({ addr: 0, range: 0x1000, obj, offset: 0 });
    expect(() => vm.apply(ops)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_MODE' }));
    expect([...vm.vas()]).toEqual([]);
    expect(obj.gpuvaList.has(vm)).toBe(false);
    expect(calls).toEqual([]);
  });

  it('applies the same MAP once obtainPrealloc made the VmBo, linking to it', () => {
    const vm = vmWith(recorder().hooks, true);
    const vmBo = vm.obtainPrealloc(vm.createVmBo(obj));
    const { inserted } = vm.apply(vm.smMapOps({ addr: 0, range: 0x1000, obj, offset: 0 }));
    expect(inserted[0]?.vmBo).toBe(vmBo);
    expect(vmBo.refcount).toBe(2);
  });
});

describe('a refusing hook changes nothing', () => {
  it('obtain', () => {
    const vm = vmWith(recorder(['drm_gpuvm_bo_obtain_locked']).hooks);
    expect(() => vm.obtain(obj)).toThrow('lock not held');
    expect(obj.gpuvaList.has(vm)).toBe(false);
  });

  it('the last put', () => {
    const vm = vmWith(recorder(['drm_gpuvm_bo_put']).hooks);
    const vmBo = vm.obtain(obj);
    expect(() => vmBo.put()).toThrow('lock not held');
    expect(vmBo.refcount).toBe(1);
    expect(vmBo.state).toBe('listed');
  });

  it('link and unlink', () => {
    const refuseLink = vmWith(recorder(['drm_gpuva_link']).hooks);
    const vmBo = refuseLink.obtain(obj);
    const va = new GpuVa({ addr: 0, range: 0x1000, obj });
    expect(() => va.link(vmBo)).toThrow('lock not held');
    expect(va.vmBo).toBeNull();
    expect(vmBo.refcount).toBe(1);

    const refuseUnlink = vmWith(recorder(['drm_gpuva_unlink']).hooks);
    const other = refuseUnlink.obtain(obj);
    const linked = new GpuVa({ addr: 0, range: 0x1000, obj });
    linked.link(other);
    expect(() => linked.unlink()).toThrow('lock not held');
    expect(linked.vmBo).toBe(other);
    expect(other.refcount).toBe(2);
  });

  it('apply: the tree, the links and the op list stay as they were', () => {
    const { hooks } = recorder(['drm_gpuva_unlink']);
    const vm = vmWith(hooks);
    vm.apply(vm.smMapOps({ addr: 0, range: 0x2000, obj, offset: 0 }));
    const before = [...vm.vas()];
    const ops = vm.smUnmapOps(0x1000, 0x1000);
    expect(() => vm.apply(ops)).toThrow('lock not held');
    expect([...vm.vas()]).toEqual(before);
    expect(before[0]?.vmBo?.refcount).toBe(1);
  });
});
