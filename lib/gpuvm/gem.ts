// SPDX-License-Identifier: MIT
// The GEM side of GPUVM: a buffer object and its list of (VM, BO) pairs, the kernel's obj->gpuva.list.
import { toU64, type U64Like } from '../u64.js';
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

  /** @param size - size in bytes; @param name - defaults to `''`. */
  constructor(size: U64Like, name = '') {
    this.size = toU64(size, 'size');
    this.name = String(name);
  }

  /** The VmBos of this GEM in list order (`drm_gem_for_each_gpuvm_bo`); zombies have left the list. */
  vmBos(): IterableIterator<VmBo> {
    return this.gpuvaList.values();
  }
}
