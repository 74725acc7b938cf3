// A lock is never freed while held: the model counts GEM references as drm_gpuvm_bo does (the creator's,
// plus one per pair), and a put that would free a BO whose lock is held either waits for the release
// (resv, gpuva-lock) or is refused (deferred), per policy.
import { describe, expect, it } from 'vitest';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { runTask } from '../../../lib/locks/index.js';
import { Bo, Vm, vmInvariantViolations } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

const space = { start: 0, range: 0x100000 };

describe('GEM references, counted as drm_gpuvm_bo counts them', () => {
  it('a pair holds its GEM; a GEM whose creator let go is freed with its last pair', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    const gem = new GemObject(0x2000, 'g');
    expect(gem.refcount).toBe(1);
    const vmBo = vm.obtain(gem);
    expect(gem.refcount).toBe(2);
    vm.apply(vm.smMapOps({ addr: 0, range: 0x1000, obj: gem }));
    expect(gem.refcount).toBe(2); // one pair, however many mappings
    expect(gem.put()).toBe(false); // the creator lets go; the pair keeps it
    vmBo.put();
    expect(gem.freed).toBe(false);
    vm.apply(vm.smUnmapOps(0, 0x1000)); // the last mapping takes the pair, and the pair the GEM
    expect(gem.freed).toBe(true);
    expect(() => vm.obtain(gem)).toThrow(expect.objectContaining({ code: 'ERR_GPUVM_REFCOUNT', message: expect.stringContaining('freed') }));
  });

  it('a spare from createVmBo holds the GEM too, and gives it back when obtainPrealloc disposes of it', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000, immediateMode: true });
    const gem = new GemObject(0x1000, 'g');
    const first = vm.obtainPrealloc(vm.createVmBo(gem));
    expect(gem.refcount).toBe(2);
    const again = vm.obtainPrealloc(vm.createVmBo(gem));
    expect(again).toBe(first);
    expect(gem.refcount).toBe(2);
  });
});

describe('a closed BO lives while its pairs do, and takes no new use', () => {
  it.each(['resv', 'gpuva-lock', 'deferred'] as const)('%s: the unmap that frees its last pair frees it after the request unlocks', async (policy) => {
    const vm = new Vm({ policy, ...space });
    const bo = new Bo(0x2000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x2000, bo });
    bo.close();
    expect(bo.freed).toBe(false);
    await expect(vm.map({ addr: 0x4000, range: 0x1000, bo })).rejects.toMatchObject({ code: 'ERR_VM_BO_CLOSED' });
    expect(() => vm.obtain(bo)).toThrow(expect.objectContaining({ code: 'ERR_VM_BO_CLOSED' }));
    await vm.unmap(0, 0x1000); // a split: the pair stays
    expect(bo.freed).toBe(false);
    await vm.unmap(0x1000, 0x1000);
    await vm.deferredCleanup();
    expect(bo.freed).toBe(true);
    expect(bo.resv.owner).toBeNull();
    expect(bo.gpuvaLock.owner).toBeNull();
    expect(vmInvariantViolations(vm)).toEqual([]);
    vm.close();
  });

  it('closing a BO while holding its reservation frees it once the reservation is released', async () => {
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      using _g = await bo.resv.lock();
      bo.close();
      expect(bo.closed).toBe(true);
      expect(bo.freed).toBe(false);
    });
    expect(bo.freed).toBe(true);
  });
});

describe('a put never frees the lock it runs under', () => {
  it('gpuva-lock: the final put takes the gpuva lock and frees the pair; the GEM waits for the unlock', () => {
    const vm = new Vm({ policy: 'gpuva-lock', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const ref = vm.obtain(bo);
    bo.close();
    let freedInside: boolean | null = null;
    bo.gpuvaLock.whenReleased(() => { freedInside = bo.freed; });
    ref.put();
    expect(freedInside).toBe(false); // when put's own gpuva lock went, the GEM was still there
    expect(bo.freed).toBe(true);
    expect(vm.pairs()).toEqual([]);
    vm.close();
  });

  it('gpuva-lock: a plain final VmBo.put() under the gpuva lock frees the pair; the GEM goes at the release', () => {
    const vm = new Vm({ policy: 'gpuva-lock', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const pair = vm.obtain(bo).vmBo;
    bo.close();
    bo.gpuvaLock.hold(() => {
      expect(pair.put()).toBe(true);
      expect(pair.state).toBe('freed');
      expect(bo.freed).toBe(false);
      expect(bo.gpuvaLock.isHeld()).toBe(true);
    });
    expect(bo.freed).toBe(true);
  });

  it('resv: the final put under the caller\'s reservation frees the pair; the GEM goes when the caller unlocks', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      using g = await bo.resv.lock();
      const ref = vm.obtain(bo, g);
      bo.close();
      ref.put(g);
      expect(vm.pairs()).toEqual([]);
      expect(bo.freed).toBe(false);
      expect(bo.resv.isHeld()).toBe(true);
    });
    expect(bo.freed).toBe(true);
    vm.close();
  });

  it('deferred: a plain final VmBo.put() under the gpuva lock that would free the BO is refused, nothing changed', () => {
    const vm = new Vm({ policy: 'deferred', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const ref = vm.obtain(bo);
    const pair = ref.vmBo;
    bo.close();
    const before = snapshot(vm);
    bo.gpuvaLock.hold(() => {
      expect(() => pair.put()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_FREE_WHILE_HELD', lockName: 'bo.gpuva', message: expect.stringMatching(/free BO 'bo'/) }));
    });
    expect(snapshot(vm)).toEqual(before);
    expect(bo.freed).toBe(false);
    ref.put(); // the policy's own drop: a zombie, unlinked under the gpuva lock, nothing freed
    expect(pair.zombie).toBe(true);
    expect(bo.freed).toBe(false);
  });

  it('deferred: cleanup under a BO lock that would free the BO is refused, every zombie stays queued; outside, it frees', async () => {
    const vm = new Vm({ policy: 'deferred', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const other = new Bo(0x1000, { name: 'other' });
    vm.obtain(other).put();
    vm.obtain(bo).put();
    bo.close();
    expect(vm.gpuvm.deferredCount).toBe(2);
    let cleanup!: Promise<number>;
    bo.gpuvaLock.hold(() => { cleanup = vm.deferredCleanup(); });
    await expect(cleanup).rejects.toMatchObject({ code: 'ERR_LOCK_FREE_WHILE_HELD' });
    expect(vm.gpuvm.deferredCount).toBe(2);
    expect(bo.freed).toBe(false);
    await expect(vm.deferredCleanup()).resolves.toBe(2);
    expect(bo.freed).toBe(true);
    expect(other.freed).toBe(false);
    vm.close();
  });
});
