// SPDX-License-Identifier: MIT
// The (VM, GEM) pair, the kernel's struct drm_gpuvm_bo, with its refcount and its list of VAs.
// Lifetime follows the kernel (v6.19): a final put() destroys at once; in immediate mode a final
// putDeferred() only turns the VmBo into a zombie (off the GEM list, queued on the VM), and the VM's
// deferredCleanup() frees it later, outside what would be the dma-fence signalling path.
import { GpuVmStateError } from './errors.js';
import type { GemObject } from './gem.js';
import type { GpuVa } from './gpuva.js';
import type { GpuVm } from './gpuvm.js';

/** Where a VmBo is in its life. */
export type VmBoState =
  /** Created (drm_gpuvm_bo_create) and not yet in the GEM's list: a spare for obtainPrealloc. */
  | 'created'
  /** In the GEM's list: findable, the normal state. */
  | 'listed'
  /** Refcount reached 0 through putDeferred: off the GEM list, waiting for deferredCleanup. */
  | 'zombie'
  /** Destroyed: released through the VM's vmBoFree callback; any further use is an error. */
  | 'freed';

/** One per (GpuVm, GemObject) pair: holds the VAs of that GEM in that VM. Get one from `vm.obtain(obj)`. */
export class VmBo {
  /** The VM this pair belongs to. */
  readonly vm: GpuVm;
  /** The GEM whose VAs in `vm` it holds. */
  readonly obj: GemObject;
  /** @internal the kernel's kref. */
  kref = 1;
  /** @internal */
  lifeState: VmBoState = 'created';
  /** @internal head of `list.gpuva`. */
  vaHead: GpuVa | null = null;
  /** @internal tail of `list.gpuva`, so link appends in O(1). */
  vaTail: GpuVa | null = null;
  /** @internal */
  linkedVas = 0;

  /** Use `vm.obtain`, `vm.obtainPrealloc` or `vm.createVmBo`, which keep one VmBo per pair. @internal */
  constructor(vm: GpuVm, obj: GemObject) {
    obj.get(); // drm_gpuvm_bo_create: the pair holds its GEM until it is freed
    this.vm = vm;
    this.obj = obj;
  }

  /** Current reference count (0 for a zombie or a freed VmBo). */
  get refcount(): number {
    return this.kref;
  }

  /** Where this VmBo is in its life. */
  get state(): VmBoState {
    return this.lifeState;
  }

  /** True once a deferred put dropped the last reference and cleanup has not run yet (drm_gpuvm_bo_is_zombie). */
  get zombie(): boolean {
    return this.lifeState === 'zombie';
  }

  /** Number of VAs linked to this VmBo. */
  get vaCount(): number {
    return this.linkedVas;
  }

  /** The linked VAs in link order (`drm_gpuvm_bo_for_each_va_safe`: the current VA may be unlinked). */
  *gpuvas(): IterableIterator<GpuVa> {
    let va = this.vaHead;
    while (va !== null) {
      const next = va.boNext;
      yield va;
      va = next;
    }
  }

  /** drm_gpuvm_bo_get: one more reference. Needs no lock. Refused on a zombie or freed VmBo. */
  get(): this {
    if (this.kref === 0) throw this.deadError('get');
    this.kref++;
    return this;
  }

  /**
   * drm_gpuvm_bo_put: drops a reference; the last one destroys the VmBo (off the GEM list, then the VM's
   * vmBoFree callback). Calls the `mightSleep` hook, and `assertGpuvaLockHeld` when this is the last
   * reference. Returns true if the VmBo was destroyed.
   */
  put(): boolean {
    if (this.kref === 0) throw this.deadError('put');
    const hooks = this.vm.lockHooks;
    hooks.mightSleep(this.vm, 'drm_gpuvm_bo_put');
    if (this.kref > 1) {
      this.kref--;
      return false;
    }
    hooks.assertGpuvaLockHeld(this.vm, this.obj, 'drm_gpuvm_bo_put');
    if (this.obj.kref === 1) hooks.lastGemReference?.(this.vm, this.obj, 'drm_gpuvm_bo_put');
    this.kref = 0;
    this.unlist();
    this.vm.freeVmBo(this);
    return true;
  }

  /**
   * drm_gpuvm_bo_put_deferred (immediate mode only): drops a reference; the last one takes the GEM gpuva
   * lock itself (`lockGpuva` hook), takes the VmBo off the GEM list, releases the lock and only then queues
   * the zombie on the VM for {@link GpuVm.deferredCleanup}. Returns true if it became a zombie.
   */
  putDeferred(): boolean {
    if (!this.vm.immediateMode) throw this.vm.modeError('putDeferred', true);
    if (this.kref === 0) throw this.deadError('putDeferred');
    if (this.kref > 1) {
      this.kref--;
      return false;
    }
    const hooks = this.vm.lockHooks;
    hooks.lockGpuva(this.vm, this.obj, 'drm_gpuvm_bo_put_deferred');
    this.kref = 0;
    this.unlist();
    this.lifeState = 'zombie';
    hooks.unlockGpuva(this.vm, this.obj, 'drm_gpuvm_bo_put_deferred');
    this.vm.boDefer.push(this);
    return true;
  }

  /**
   * Drops a reference the way this VM's mode allows from any context: putDeferred in immediate mode,
   * put otherwise. This is what `using ref = vm.obtain(obj)` runs at scope exit; in staged mode a last
   * reference dropped without the GEM lock is refused loudly by the lock hooks.
   */
  [Symbol.dispose](): void {
    if (this.vm.immediateMode) this.putDeferred();
    else this.put();
  }

  /** @internal appends `va` to `list.gpuva`. */
  appendVa(va: GpuVa): void {
    va.boPrev = this.vaTail;
    va.boNext = null;
    if (this.vaTail === null) this.vaHead = va;
    else this.vaTail.boNext = va;
    this.vaTail = va;
    this.linkedVas++;
  }

  /** @internal removes `va` from `list.gpuva`. */
  removeVa(va: GpuVa): void {
    if (va.boPrev === null) this.vaHead = va.boNext;
    else va.boPrev.boNext = va.boNext;
    if (va.boNext === null) this.vaTail = va.boPrev;
    else va.boNext.boPrev = va.boPrev;
    va.boPrev = null;
    va.boNext = null;
    this.linkedVas--;
  }

  /** @internal takes the VmBo off the GEM's list if it is on it. */
  unlist(): void {
    if (this.lifeState === 'listed' && this.obj.gpuvaList.get(this.vm) === this) this.obj.gpuvaList.delete(this.vm);
  }

  private deadError(what: string): GpuVmStateError {
    return new GpuVmStateError('ERR_GPUVM_REFCOUNT', `VmBo.${what}: the VmBo of GEM '${this.obj.name}' has no references left (it is ${this.lifeState})`);
  }
}
