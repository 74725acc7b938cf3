// SPDX-License-Identifier: MIT
// One GPU VA mapping, the kernel's struct drm_gpuva. It carries its own links (to its tree leaf and in its
// VmBo's list), so a live mapping costs one object plus its u64 values and a slot in a leaf.
import { toU64, type U64Like } from '../u64.js';
import { invalidArgType, outOfRange } from '../arg-errors.js';
import { GpuVmStateError } from './errors.js';
import { GemObject } from './gem.js';
import type { GpuVm } from './gpuvm.js';
import type { VaLeaf } from './va-tree.js';
import { VmBo } from './vm-bo.js';

/** DRM_GPUVA_INVALIDATED: the backing GEM was invalidated (drivers set it; GPUVM never reads it). */
export const GPUVA_INVALIDATED = 1 << 0;
/** DRM_GPUVA_SPARSE: informational; split/merge keys on `obj === null`, not on this flag. */
export const GPUVA_SPARSE = 1 << 1;
/** DRM_GPUVA_USERBITS: the first flag bit free for the user (bits 2..30 are the user's). */
export const GPUVA_USERBITS = 1 << 2;

/**
 * drm_gpuva_init_from_op: sets where `va` maps, for the model's own insert paths (the fields are read-only
 * to users so that a VA in a tree cannot move under it). @internal
 */
export function initGpuVa(va: GpuVa, addr: bigint, range: bigint, obj: GemObject | null, offset: bigint): GpuVa {
  const fields = va as { addr: bigint; range: bigint; obj: GemObject | null; offset: bigint };
  fields.addr = addr;
  fields.range = range;
  fields.obj = obj;
  fields.offset = offset;
  return va;
}

/** The fields a mapping is made from (a map op or a caller's description). */
export interface GpuVaInit {
  /** Start address (u64). */
  addr: U64Like;
  /** Length (u64). */
  range: U64Like;
  /** Backing GEM, or null/absent for a sparse (NULL) mapping. */
  obj?: GemObject | null;
  /** Offset into the GEM (u64); defaults to 0. */
  offset?: U64Like;
  /** Initial flags (GPUVA_* and user bits); defaults to 0. */
  flags?: number;
}

/**
 * A mapping `[addr, addr+range)` of `obj` at `offset`, or a sparse mapping when `obj` is null.
 * Create one with `new GpuVa(init)` and insert it, or let the op helpers create it.
 */
export class GpuVa {
  /** The VmBo this VA is linked to (drm_gpuva_link), or null. */
  vmBo: VmBo | null = null;
  /** Backing GEM; null for a sparse mapping. Fixed while the VA is in a tree. */
  readonly obj: GemObject | null;
  /** Offset into `obj`. For sparse pieces of a remap the kernel still computes it. */
  readonly offset: bigint;
  /** Start address. */
  readonly addr: bigint;
  /** Length; never 0 for an inserted VA. */
  readonly range: bigint;
  /** GPUVA_INVALIDATED, GPUVA_SPARSE and user bits; GPUVM never changes them. */
  flags: number;
  /** @internal the tree leaf holding this VA; null while it is in no tree. */
  leaf: VaLeaf | null = null;
  /** @internal the VA's id in its tree's table (what the leaf stores); -1 while it is in no tree. */
  treeId = -1;
  /** @internal the VmBo's list of VAs (`vm_bo->list.gpuva`). */
  boPrev: GpuVa | null = null;
  /** @internal */
  boNext: GpuVa | null = null;

  /** Validates and copies `init`; nothing is inserted until a GpuVm takes it. */
  constructor(init?: GpuVaInit) {
    if (init === undefined) {
      this.obj = null;
      this.offset = 0n;
      this.addr = 0n;
      this.range = 0n;
      this.flags = 0;
      return;
    }
    if (typeof init !== 'object' || init === null) throw invalidArgType('init', 'object', init);
    const obj = init.obj ?? null;
    if (obj !== null && !(obj instanceof GemObject)) throw invalidArgType('obj', ['GemObject', 'null'], obj);
    const flags = init.flags ?? 0;
    if (typeof flags !== 'number') throw invalidArgType('init.flags', 'number', flags);
    if (!Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) throw outOfRange('init.flags', 'an integer in [0, 2^31-1]', flags);
    this.addr = toU64(init.addr, 'addr');
    this.range = toU64(init.range, 'range');
    this.offset = toU64(init.offset ?? 0n, 'offset');
    this.obj = obj;
    this.flags = flags;
  }

  /** One past the last address (a bigint that may be 2^64 only for an uninserted VA). */
  get end(): bigint {
    return this.addr + this.range;
  }

  /** The VM whose tree holds this VA, or null while it is in no tree. */
  get vm(): GpuVm | null {
    return this.leaf === null ? null : this.leaf.vm;
  }

  /** True while the VA is in a VM's tree. */
  get inserted(): boolean {
    return this.leaf !== null;
  }

  /** drm_gpuva_invalidated(). */
  get invalidated(): boolean {
    return (this.flags & GPUVA_INVALIDATED) !== 0;
  }

  /** drm_gpuva_invalidate(va, invalidate): sets or clears GPUVA_INVALIDATED. */
  invalidate(invalidate: boolean): void {
    this.flags = invalidate ? this.flags | GPUVA_INVALIDATED : this.flags & ~GPUVA_INVALIDATED;
  }

  /** True for a mapping without a GEM (the kernel's `gem.obj == NULL`). */
  get sparse(): boolean {
    return this.obj === null;
  }

  /**
   * drm_gpuva_link: appends this VA to `vmBo`'s list and takes a VmBo reference. Does nothing for a sparse
   * VA. Asserts the GEM gpuva lock.
   */
  link(vmBo: VmBo): void {
    if (!(vmBo instanceof VmBo)) throw invalidArgType('vmBo', 'VmBo', vmBo);
    const obj = this.obj;
    if (obj === null) return;
    if (vmBo.obj !== obj) throw new GpuVmStateError('ERR_GPUVM_LINK', `link: the VA maps GEM '${obj.name}', the VmBo is for GEM '${vmBo.obj.name}'`);
    if (this.vmBo !== null) throw new GpuVmStateError('ERR_GPUVM_LINK', 'link: the VA is already linked');
    if (this.vm !== null && this.vm !== vmBo.vm) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `link: the VA is in VM '${this.vm.name}', the VmBo in VM '${vmBo.vm.name}'`);
    if (vmBo.kref === 0) throw new GpuVmStateError('ERR_GPUVM_REFCOUNT', `link: the VmBo is ${vmBo.state}`);
    vmBo.vm.lockHooks.assertGpuvaLockHeld(vmBo.vm, obj, 'drm_gpuva_link');
    vmBo.kref++;
    vmBo.appendVa(this);
    this.vmBo = vmBo;
  }

  /**
   * drm_gpuva_unlink: takes this VA off its VmBo's list and drops that reference, which may destroy the
   * VmBo (drm_gpuvm_bo_put). Does nothing for a sparse VA. Asserts the GEM gpuva lock; calls `mightSleep`.
   */
  unlink(): void {
    if (this.obj === null) return;
    const vmBo = this.linkedVmBo('unlink');
    const hooks = vmBo.vm.lockHooks;
    hooks.assertGpuvaLockHeld(vmBo.vm, vmBo.obj, 'drm_gpuva_unlink');
    hooks.mightSleep(vmBo.vm, 'drm_gpuvm_bo_put');
    if (vmBo.kref === 1 && vmBo.obj.kref === 1) hooks.lastGemReference?.(vmBo.vm, vmBo.obj, 'drm_gpuva_unlink');
    vmBo.removeVa(this);
    this.vmBo = null;
    if (--vmBo.kref === 0) {
      vmBo.unlist();
      vmBo.vm.freeVmBo(vmBo);
    }
  }

  /**
   * drm_gpuva_unlink_defer (immediate mode only): takes the GEM gpuva lock itself, unlinks, and if that was
   * the VmBo's last reference turns it into a zombie queued for `vm.deferredCleanup()` after unlocking.
   */
  unlinkDefer(): void {
    if (this.obj === null) return;
    const vmBo = this.linkedVmBo('unlinkDefer');
    const vm = vmBo.vm;
    if (!vm.immediateMode) throw vm.modeError('unlinkDefer', true);
    vm.lockHooks.lockGpuva(vm, vmBo.obj, 'drm_gpuva_unlink_defer');
    vmBo.removeVa(this);
    this.vmBo = null;
    const last = --vmBo.kref === 0;
    if (last) {
      vmBo.unlist();
      vmBo.lifeState = 'zombie';
    }
    vm.lockHooks.unlockGpuva(vm, vmBo.obj, 'drm_gpuva_unlink_defer');
    if (last) vm.boDefer.push(vmBo);
  }

  private linkedVmBo(what: string): VmBo {
    if (this.vmBo === null) throw new GpuVmStateError('ERR_GPUVM_LINK', `${what}: the VA is not linked to a VmBo`);
    return this.vmBo;
  }
}
