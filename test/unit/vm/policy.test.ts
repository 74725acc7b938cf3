// The VmBo lifetime policies as tests: who may drop the last reference to a (VM, BO) pair.
import { describe, expect, it } from 'vitest';
import { Mutex, runTask } from '../../../lib/locks/index.js';
import { Bo, Vm, vmInvariantViolations } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

const space = { start: 0, range: 0x100000 };

describe('resv policy: the final put needs a guard of the BO reservation', () => {
  it('an automatic drop of the last reference without a guard fails loudly and changes nothing', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      const ref = await (async () => { using g = await bo.resv.lock(); return vm.obtain(bo, g); })();
      const before = snapshot(vm);
      expect(() => { using _r = ref; }).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringContaining('bo.resv') }));
      expect(snapshot(vm)).toEqual(before);
      expect(ref.released).toBe(false);
      using g = await bo.resv.lock();
      ref.put(g);
    });
    expect(vm.pairs()).toEqual([]);
  });

  it('a reference obtained with the guard drops itself at scope exit, before the guard is released', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      using g = await bo.resv.lock();
      {
        using ref = vm.obtain(bo, g);
        expect(ref.vmBo.refcount).toBe(1);
      }
      expect(vm.pairs()).toEqual([]);
    });
  });

  it('a drop that is not the last needs no lock', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      const g = await bo.resv.lock();
      const keep = vm.obtain(bo, g);
      const extra = vm.obtain(bo, g);
      g.release();
      extra.put();
      expect(keep.vmBo.refcount).toBe(1);
      using g2 = await bo.resv.lock();
      keep.put(g2);
    });
  });

  it('a guard of another BO is no proof: ERR_LOCK_GUARD_WRONG_LOCK', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const other = new Bo(0x1000, { name: 'other' });
    await runTask('driver', async () => {
      const ref = await (async () => { using g = await bo.resv.lock(); return vm.obtain(bo, g); })();
      {
        using og = await other.resv.lock();
        expect(() => ref.put(og)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_GUARD_WRONG_LOCK' }));
      }
      using g = await bo.resv.lock();
      ref.put(g);
    });
  });

  it('why the drop cannot take the reservation itself: the caller may hold it already (TTM callbacks do)', async () => {
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('ttm-callback', async () => {
      using _held = await bo.resv.lock();
      await expect(bo.resv.lock()).rejects.toMatchObject({ code: 'ERR_LOCK_RECURSIVE' });
    });
  });
});

describe('gpuva-lock policy: put takes the dedicated GPU-VA lock itself', () => {
  it('an automatic drop works whatever the caller holds, and frees the pair at once', async () => {
    const vm = new Vm({ policy: 'gpuva-lock', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('ttm-callback', async () => {
      using _resv = await bo.resv.lock();
      {
        using ref = vm.obtain(bo);
        expect(ref.vmBo.state).toBe('listed');
      }
      expect(vm.pairs()).toEqual([]);
      expect(vm.gpuvm.deferredCount).toBe(0);
    });
    expect(() => { using _r = vm.obtain(bo); }).not.toThrow();
  });

  it('with RESV_PROTECTED lists the final put still needs the VM reservation (the caveat raised in review)', async () => {
    const vm = new Vm({ policy: 'gpuva-lock', resvProtected: true, ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    const ref = vm.obtain(bo);
    const before = snapshot(vm);
    expect(() => ref.put()).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringContaining('RESV_PROTECTED') }));
    expect(snapshot(vm)).toEqual(before);
    await runTask('driver', async () => {
      using _vmResv = await vm.resv.lock();
      ref.put();
    });
    expect(vm.pairs()).toEqual([]);
  });
});

describe('deferred policy: put never needs a lock the caller could hold', () => {
  it('an automatic drop makes a zombie, off the BO list, freed by deferredCleanup', async () => {
    const vm = new Vm({ policy: 'deferred', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    let pair!: ReturnType<typeof vm.obtain>['vmBo'];
    await runTask('ttm-callback', async () => {
      using _resv = await bo.resv.lock();
      using ref = vm.obtain(bo);
      pair = ref.vmBo;
    });
    expect(pair.zombie).toBe(true);
    expect(bo.gem.gpuvaList.has(vm.gpuvm)).toBe(false);
    expect(vmInvariantViolations(vm)).toEqual([]);
    expect(await vm.deferredCleanup()).toBe(1);
    expect(pair.state).toBe('freed');
    expect(vm.pairs()).toEqual([]);
  });

  it('with RESV_PROTECTED the drop still works, and cleanup takes the VM reservation itself', async () => {
    const vm = new Vm({ policy: 'deferred', resvProtected: true, ...space });
    const bo = new Bo(0x10000, { name: 'bo' });
    await vm.map({ addr: 0, range: 0x1000, bo });
    await runTask('t', async () => {
      using _ref = vm.obtain(bo);
      await vm.unmap(0, 0x1000);
    });
    expect(vm.gpuvm.deferredCount).toBe(1);
    expect(vm.extobjList.rawEntries()).toHaveLength(1); // the zombie lingers on the protected list
    await expect(vm.deferredCleanup()).resolves.toBe(1);
    expect(vm.extobjList.rawEntries()).toHaveLength(0);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });
});

describe('guards as proof', () => {
  it('a guard of another kind of lock is a type error, and still refused at run time', async () => {
    const vmLock = new Mutex('some.lock', 'guards-as-proof');
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      using wrong = await vmLock.lock();
      // @ts-expect-error a Mutex guard is not a reservation guard
      expect(() => bo.evict(wrong)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_GUARD_WRONG_LOCK' }));
    });
  });

  it('a released guard is no proof', async () => {
    const vm = new Vm({ policy: 'resv', ...space });
    const bo = new Bo(0x1000, { name: 'bo' });
    await runTask('driver', async () => {
      const g = await bo.resv.lock();
      const ref = vm.obtain(bo, g);
      g.release();
      expect(() => ref.put(g)).toThrow(expect.objectContaining({ code: 'ERR_LOCK_NOT_HELD', message: expect.stringContaining('released') }));
      using g2 = await bo.resv.lock();
      ref.put(g2);
    });
  });
});
