// SPDX-License-Identifier: MIT
// A buffer object as the transactional layer sees it: the model's GemObject plus the two locks the
// kernel gives a GEM, its reservation (dma_resv) and its gpuva lock (obj->gpuva.lock, immediate mode).
import { invalidArgType } from '../arg-errors.js';
import { GemObject } from '../gpuvm/gem.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import type { LockGuard } from '../locks/guard.js';
import { ResvLock } from '../locks/resv.js';
import { SyncLock } from '../locks/sync-lock.js';
import { toU64, type U64Like } from '../u64.js';
import { VmError } from './errors.js';
import { ownerOf } from './registry.js';

/** The model GEM of a Bo, which knows its Bo: lock hooks look the Bo up on every step of a request. */
class BoGem extends GemObject {
  readonly bo: Bo;

  constructor(size: bigint, name: string, bo: Bo) {
    super(size, name);
    this.bo = bo;
  }
}

/** The lock class of every BO's gpuva lock. */
export const GPUVA_LOCK_CLASS = 'gem.gpuva';

/** Options of {@link Bo}. */
export interface BoOptions {
  /** For messages and dumps. */
  name?: string;
  /**
   * Share this reservation instead of owning one: pass `vm.resv` for a VM-private BO (not an extobj,
   * drm_gpuvm_is_extobj is false for it).
   */
  resv?: ResvLock;
}

/** A GEM buffer object with its reservation and gpuva locks. */
export class Bo {
  /** The model's GEM. */
  readonly gem: GemObject;
  /** dma_resv: guards `evicted`, and the pair list under the `resv` policy. */
  readonly resv: ResvLock;
  /** obj->gpuva.lock: guards the pair list in immediate mode; held only for synchronous sections. */
  readonly gpuvaLock: SyncLock;
  #immediate: boolean | null = null;

  constructor(size: U64Like, options: BoOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'object', options);
    const name = options.name ?? 'bo';
    const bytes = toU64(size, 'size');
    if (options.resv !== undefined && !(options.resv instanceof ResvLock)) throw invalidArgType('resv', 'ResvLock', options.resv);
    this.gem = new BoGem(bytes, name, this);
    this.resv = options.resv ?? new ResvLock(`${name}.resv`);
    this.gpuvaLock = new SyncLock(`${name}.gpuva`, GPUVA_LOCK_CLASS);
  }

  /** The name given at creation. */
  get name(): string {
    return this.gem.name;
  }

  /** The lock guarding this BO's pair list: the gpuva lock once mapped in immediate-mode VMs, else the resv. */
  get listLock(): ResvLock | SyncLock {
    return this.#immediate === true ? this.gpuvaLock : this.resv;
  }

  /**
   * Binds the BO to one mode the first time a VM uses it; every VM of a GEM must agree on immediate mode,
   * since one lock guards the GEM's pair list (ERR_VM_BO_MODE otherwise).
   */
  claimMode(immediate: boolean, vmName: string): void {
    if (this.#immediate === null) this.#immediate = immediate;
    else if (this.#immediate !== immediate) {
      throw new VmError('ERR_VM_BO_MODE', `BO '${this.name}' is used by ${this.#immediate ? 'immediate' : 'staged'}-mode VMs; VM '${vmName}' is not`);
    }
  }

  /**
   * drm_gem_for_each_gpuvm_bo: this BO's pairs (a snapshot). The pair-list lock must be held: the resv
   * (pass its guard) for `resv`-policy VMs, the gpuva lock (inside `bo.gpuvaLock.hold`) otherwise.
   */
  vmBos(guard?: LockGuard<ResvLock>): VmBo[] {
    if (this.#immediate === true) this.gpuvaLock.assertHeld(`iterating the pairs of BO '${this.name}'`);
    else if (this.#immediate === false) {
      if (guard === undefined) this.resv.assertHeld(`iterating the pairs of BO '${this.name}'`);
      else guard.assertHolds(this.resv, `iterating the pairs of BO '${this.name}'`);
    }
    return [...this.gem.vmBos()];
  }

  /**
   * drm_gpuvm_bo_gem_evict: marks this BO's pair in every VM evicted (or valid again), which puts it on (or
   * takes it off) each VM's evict list. Requires this BO's reservation: pass its guard.
   */
  evict(guard: LockGuard<ResvLock>, evict = true): void {
    guard.assertHolds(this.resv, `drm_gpuvm_bo_gem_evict of BO '${this.name}'`);
    const run = (): void => {
      for (const vmBo of this.gem.vmBos()) ownerOf(vmBo.vm).evictPair(vmBo, evict);
    };
    if (this.#immediate === true) this.gpuvaLock.hold(run);
    else run();
  }
}

/** The Bo of a model GEM; every GEM the VM layer sees was made by a Bo. */
export function boOf(gem: GemObject): Bo {
  if (gem instanceof BoGem) return gem.bo;
  throw new TypeError(`GEM '${gem.name}' was not created through a Bo`);
}
