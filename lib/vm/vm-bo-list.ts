// SPDX-License-Identifier: MIT
// The VM's extobj and evict lists (vm->extobj, vm->evict). Two protections, as in the kernel: an internal
// lock of the list's own (the kernel's spinlocks; here a SyncLock), or, with `resvProtected`, the VM's
// reservation, which every caller must then hold. The lists hold no references; a pair leaves them when it
// is freed. Zombies may linger until deferred cleanup, so every iteration skips them.
import type { VmBo } from '../gpuvm/vm-bo.js';
import type { ResvLock } from '../locks/resv.js';
import { SyncLock } from '../locks/sync-lock.js';
import { currentTask, type LockTask } from '../locks/task.js';

/** One of the VM's pair lists. */
export class VmBoList {
  /** For messages. */
  readonly name: string;
  readonly #items = new Set<VmBo>();
  readonly #lock: SyncLock | null;
  readonly #vmResv: ResvLock | null;

  /** `vmResv` given: protected by it (RESV_PROTECTED); else by an internal lock of class `lockClass`. */
  constructor(name: string, lockClass: string, vmResv: ResvLock | null) {
    this.name = name;
    this.#vmResv = vmResv;
    this.#lock = vmResv === null ? new SyncLock(`${name}.lock`, lockClass) : null;
  }

  /** Runs `section` under the list's protection: takes the internal lock, or asserts the VM resv. */
  #guarded<T>(action: string, section: () => T): T {
    if (this.#lock !== null) return this.#lock.hold(section);
    if (!this.#vmResv!.isHeld()) this.#vmResv!.assertHeld(`${action} ${this.name} (protected by the VM's reservation)`);
    return section();
  }

  // Every request adds to or removes from these lists, so add and remove take the internal lock directly
  // (no guard, no closure) when the caller runs in a task; the checks are the same. The task, or null if
  // the caller must go through #guarded.
  #lockedInTask(): LockTask | null {
    if (this.#lock === null) return null;
    const task = currentTask();
    if (task !== null) this.#lock.acquireSync(task);
    return task;
  }

  /** Adds `vmBo` unless present; true if added. */
  add(vmBo: VmBo): boolean {
    const task = this.#lockedInTask();
    if (task === null) return this.#guarded('adding to', () => this.#add(vmBo));
    try {
      return this.#add(vmBo);
    } finally {
      this.#lock!.releaseHeld(task);
    }
  }

  #add(vmBo: VmBo): boolean {
    if (this.#items.has(vmBo)) return false;
    this.#items.add(vmBo);
    return true;
  }

  /**
   * Removes `vmBo` if present; true if removed. A pair that was never listed (a spare freed by
   * obtainPrealloc) is not looked for under the lock: the kernel frees those without touching any list.
   */
  remove(vmBo: VmBo): boolean {
    if (!this.#items.has(vmBo)) return false;
    const task = this.#lockedInTask();
    if (task === null) return this.#guarded('removing from', () => this.#items.delete(vmBo));
    try {
      return this.#items.delete(vmBo);
    } finally {
      this.#lock!.releaseHeld(task);
    }
  }

  /** True if `vmBo` is on the list, zombie or not. */
  has(vmBo: VmBo): boolean {
    return this.#guarded('looking up', () => this.#items.has(vmBo));
  }

  /**
   * The live entries in list order, zombies skipped (drm_gpuvm_bo_is_zombie). A snapshot, like the kernel's
   * pop-into-a-local-list walk: entries added or removed meanwhile do not disturb the caller's loop.
   */
  entries(): VmBo[] {
    return this.#guarded('iterating', () => [...this.#items].filter((vmBo) => !vmBo.zombie));
  }

  /** Every entry including zombies, without locking: for invariant checks only. */
  rawEntries(): VmBo[] {
    return [...this.#items];
  }
}
