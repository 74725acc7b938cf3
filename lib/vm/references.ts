// SPDX-License-Identifier: MIT
// Who holds the pairs of one Vm: every pair not freed yet, and the counted references its callers (and its
// requests in flight) hold on each, beyond those of the pair's mappings. Obtaining and dropping a reference
// follows the VM's VmBo policy: drm_gpuvm_bo_obtain_locked under the BO's reservation (`resv`), or
// drm_gpuvm_bo_obtain_prealloc, which allocates first and takes the gpuva lock itself (immediate mode).
// A drop the policy refuses loses nothing: the reference stays counted and reachable (on the error, and in
// the VM's list of refused drops) until a later put completes it; close() names every one still held.
import type { VmBo } from '../gpuvm/vm-bo.js';
import { LockError } from '../locks/errors.js';
import type { LockGuard } from '../locks/guard.js';
import type { ResvLock } from '../locks/resv.js';
import { currentTask, LockTask, runSync } from '../locks/task.js';
import { boOf, type Bo } from './bo.js';
import { DropRefusedError } from './errors.js';
import type { Vm } from './vm.js';
import type { VmBoRef } from './vm-bo-ref.js';

// Runs the synchronous `fn` in the caller's task, or in a task of its own named after the VM and the action.
export function inTask<T>(vm: Vm, action: string, fn: () => T): T {
  return currentTask() === null ? runSync(new LockTask(`${vm.name}.${action}`), fn) : fn();
}

/** The pairs of one Vm and the references held on them. */
export class VmReferences {
  readonly #vm: Vm;
  readonly #immediate: boolean;
  readonly #pairs = new Set<VmBo>();
  readonly #counts = new Map<VmBo, number>();
  // The references handed out by Vm.obtain and not put yet, and those of them whose last drop was refused.
  readonly #live = new Set<VmBoRef>();
  readonly #refused = new Set<VmBoRef>();

  constructor(vm: Vm, immediate: boolean) {
    this.#vm = vm;
    this.#immediate = immediate;
  }

  /** One counted reference to the pair of `bo`, created if needed; recorded until {@link dropCount}. */
  obtainPair(bo: Bo, guard: LockGuard<ResvLock> | null): VmBo {
    const vm = this.#vm;
    bo.claimMode(this.#immediate, vm.name);
    let vmBo: VmBo;
    if (this.#immediate) {
      const spare = vm.gpuvm.createVmBo(bo.gem);
      vmBo = currentTask() === null ? inTask(vm, 'obtain', () => vm.gpuvm.obtainPrealloc(spare)) : vm.gpuvm.obtainPrealloc(spare);
    } else {
      guard?.assertHolds(bo.resv, 'drm_gpuvm_bo_obtain_locked');
      vmBo = vm.gpuvm.obtain(bo.gem);
    }
    this.#pairs.add(vmBo);
    this.#counts.set(vmBo, (this.#counts.get(vmBo) ?? 0) + 1);
    // drm_gpuvm_bo_extobj_add as soon as the lock allows: an extobj pair that can be evicted must also be
    // locked by prepareObjects. Under RESV_PROTECTED that waits for the next map, which holds the VM's
    // reservation; until then an eviction only marks the pair, so it never reaches the evict list unlocked.
    if (!vm.resvProtected && vm.isExtobj(bo)) vm.extobjList.add(vmBo);
    return vmBo;
  }

  /** Records a reference handed out to a caller, until it is put. */
  handOut(ref: VmBoRef): VmBoRef {
    this.#live.add(ref);
    return ref;
  }

  /**
   * Drops the reference `ref` holds by the VM's policy. A refusal changes nothing and throws a
   * DropRefusedError that carries `ref`, which stays listed among the refused drops until a put succeeds.
   */
  release(ref: VmBoRef, guard: LockGuard<ResvLock> | null): void {
    const vmBo = ref.vmBo;
    try {
      this.#put(ref, vmBo, guard);
    } catch (err) {
      if (!(err instanceof LockError)) throw err;
      ref.setRefusal(err);
      this.#refused.add(ref);
      throw new DropRefusedError(err, ref);
    }
    this.dropCount(vmBo);
    this.#live.delete(ref);
    if (this.#refused.delete(ref)) ref.setRefusal(null);
  }

  #put(ref: VmBoRef, vmBo: VmBo, guard: LockGuard<ResvLock> | null): void {
    const vm = this.#vm;
    const bo = boOf(vmBo.obj);
    if (vm.policy === 'resv') {
      const proof = guard ?? ref.guard;
      if (vmBo.refcount === 1) {
        if (proof === null) {
          throw new LockError('ERR_LOCK_NO_GUARD', `the last reference to the pair of BO '${bo.name}' in VM '${vm.name}' can only be ` +
            `dropped holding ${bo.resv.name} (resv policy): put(guard), or obtain(bo, guard) so that the drop uses it`, bo.resv.name);
        }
        proof.assertHolds(bo.resv, `the final put of the pair of BO '${bo.name}'`);
      }
      inTask(vm, 'put', () => vmBo.put());
    } else if (vm.policy === 'gpuva-lock') {
      inTask(vm, 'put', () => bo.gpuvaLock.hold(() => vmBo.put()));
    } else {
      inTask(vm, 'put', () => vmBo.putDeferred());
    }
  }

  /** The references whose last drop was refused and is still to complete, oldest first. */
  refusedDrops(): VmBoRef[] {
    return [...this.#refused];
  }

  /** The references handed out and not put yet, oldest first. */
  outstanding(): VmBoRef[] {
    return [...this.#live];
  }

  /** Forgets one counted reference to `vmBo` (the reference itself was put). */
  dropCount(vmBo: VmBo): void {
    const n = this.#counts.get(vmBo)! - 1;
    if (n === 0) this.#counts.delete(vmBo);
    else this.#counts.set(vmBo, n);
  }

  /** Records a pair that a request's apply created (staged mode, or a RESV_PROTECTED list entry). */
  track(vmBo: VmBo): void {
    this.#pairs.add(vmBo);
  }

  /** Forgets a freed pair. */
  forget(vmBo: VmBo): void {
    this.#pairs.delete(vmBo);
  }

  /** References held on `vmBo`, beyond those of its mappings. */
  held(vmBo: VmBo): number {
    return this.#counts.get(vmBo) ?? 0;
  }

  /** References held on every pair together. */
  get heldTotal(): number {
    let refs = 0;
    for (const n of this.#counts.values()) refs += n;
    return refs;
  }

  /** Pairs not freed yet, zombies included. */
  get pairCount(): number {
    return this.#pairs.size;
  }

  /** Every pair not freed yet: listed ones and zombies. */
  pairs(): VmBo[] {
    return [...this.#pairs];
  }
}
