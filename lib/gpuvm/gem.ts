// SPDX-License-Identifier: MIT
// The GEM side of GPUVM: a buffer object and its list of (VM, BO) pairs, the kernel's obj->gpuva.list,
// and its reference count: its creator holds one, and every VmBo holds one (drm_gpuvm_bo_create takes it,
// freeing the VmBo drops it), so the last pair of a GEM whose creator let go frees the GEM, and with it the
// locks a GEM embeds. Where that could free a held lock, GPUVM asks the lastGemReference hook first.
import { toU64, type U64Like } from '../u64.js';
import { GpuVmStateError } from './errors.js';
import type { GpuVm } from './gpuvm.js';
import type { VmBo } from './vm-bo.js';

/**
 * A GEM buffer object as GPUVM sees it: a size, a name for traces and messages, and the VmBos that map it
 * (at most one per GpuVm). The device layer owns the real buffer; this is the identity GPUVM keys on.
 */
export class GemObject {
  /** Size in bytes (u64). Map requests must stay inside it. */
  readonly size: bigint;
  /** A name for traces, dumps and error messages. */
  readonly name: string;
  /**
   * The kernel's `obj->gpuva.list`: the VmBos of this GEM, keyed by VM. Guarded by the GEM gpuva lock
   * (the resv in staged mode, `gpuva.lock` in immediate mode), which GPUVM only asserts through its hooks.
   * @internal
   */
  readonly gpuvaList = new Map<GpuVm, VmBo>();
  /** @internal the kernel's kref of the GEM: its creator's reference plus one per VmBo. */
  kref = 1;

  /** @param size - size in bytes; @param name - defaults to `''`. */
  constructor(size: U64Like, name = '') {
    this.size = toU64(size, 'size');
    this.name = String(name);
  }

  /** References held: the creator's (until it puts it) and one per VmBo of the GEM; 0 once freed. */
  get refcount(): number {
    return this.kref;
  }

  /** True once the last reference went (drm_gem_object_put to zero): no new VmBo may be made for it. */
  get freed(): boolean {
    return this.kref === 0;
  }

  /** drm_gem_object_get: one more reference; refused once freed (ERR_GPUVM_REFCOUNT). */
  get(): this {
    if (this.kref === 0) throw new GpuVmStateError('ERR_GPUVM_REFCOUNT', `GEM '${this.name}' was freed: it takes no new reference`);
    this.kref++;
    return this;
  }

  /** drm_gem_object_put: drops a reference; true when it was the last, which frees the GEM. */
  put(): boolean {
    if (this.kref === 0) throw new GpuVmStateError('ERR_GPUVM_REFCOUNT', `GEM '${this.name}' was freed already`);
    return --this.kref === 0;
  }

  /** The VmBos of this GEM in list order (`drm_gem_for_each_gpuvm_bo`); zombies have left the list. */
  vmBos(): IterableIterator<VmBo> {
    return this.gpuvaList.values();
  }
}
