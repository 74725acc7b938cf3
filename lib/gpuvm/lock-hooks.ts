// SPDX-License-Identifier: MIT
// Where drm_gpuvm asserts or takes a lock, the model calls one of these hooks. GPUVM itself never decides
// which lock guards what; a lock policy (lib/locks) plugs in here and may throw to refuse a call, which
// then changes nothing. The default hooks do nothing, like a kernel built without lockdep.
import type { GemObject } from './gem.js';
import type { GpuVm } from './gpuvm.js';

/** The kernel function on whose behalf a hook is called, so a policy can say precisely what was misused. */
export type GpuVmLockSite =
  | 'drm_gpuvm_bo_find'
  | 'drm_gpuvm_bo_obtain_locked'
  | 'drm_gpuvm_bo_obtain_prealloc'
  | 'drm_gpuvm_bo_put'
  | 'drm_gpuvm_bo_put_deferred'
  | 'drm_gpuvm_bo_deferred_cleanup'
  | 'drm_gpuvm_bo_unmap_ops_create'
  | 'drm_gpuva_link'
  | 'drm_gpuva_unlink'
  | 'drm_gpuva_unlink_defer';

/** Lock hooks given at GpuVm creation. Every hook is synchronous; one that throws aborts the call unchanged. */
export interface GpuVmLockHooks {
  /**
   * `drm_gem_gpuva_assert_lock_held(gpuvm, obj)`: the lock guarding `obj`'s VmBo list and its VmBos' VA
   * lists must be held by the caller. In immediate mode that is `obj->gpuva.lock`, otherwise the GEM's
   * dma-resv (`vm.immediateMode` tells which). Called by bo_find, obtain, the final put (bo_destroy),
   * link, unlink and bo_unmap_ops_create.
   */
  assertGpuvaLockHeld(vm: GpuVm, obj: GemObject, site: GpuVmLockSite): void;
  /**
   * `mutex_lock(&obj->gpuva.lock)` taken by GPUVM itself (immediate mode only): by put_deferred when the
   * count may reach zero, by unlink_defer and by obtain_prealloc.
   */
  lockGpuva(vm: GpuVm, obj: GemObject, site: GpuVmLockSite): void;
  /** `mutex_unlock(&obj->gpuva.lock)`, pairing {@link GpuVmLockHooks.lockGpuva}. */
  unlockGpuva(vm: GpuVm, obj: GemObject, site: GpuVmLockSite): void;
  /**
   * `might_sleep()` in drm_gpuvm_bo_put: a put that may free must not run where sleeping is forbidden
   * (for example inside a dma-fence signalling section).
   */
  mightSleep(vm: GpuVm, site: GpuVmLockSite): void;
  /**
   * Freeing a VmBo is about to drop the last reference to `obj` (drm_gpuvm_bo_destroy's drm_gem_object_put
   * with nobody else holding the GEM), which frees the GEM and the locks it embeds: lockdep's "held lock
   * freed" when one of them is held. Called before anything changes, by the final put, unlink's final put
   * and deferredCleanup. A policy may throw to refuse (nothing changed), or keep the GEM alive until its
   * locks are released by taking a reference (`obj.get()`) that it puts then. Optional: without it the GEM
   * is freed at once, as in a kernel without lockdep.
   */
  lastGemReference?(vm: GpuVm, obj: GemObject, site: GpuVmLockSite): void;
}

/** Hooks that check nothing: the default. */
export const noLockHooks: GpuVmLockHooks = Object.freeze({
  assertGpuvaLockHeld(): void {},
  lockGpuva(): void {},
  unlockGpuva(): void {},
  mightSleep(): void {},
});
