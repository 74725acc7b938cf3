// SPDX-License-Identifier: MIT
// A buffer object as the transactional layer sees it: the model's GemObject plus the two locks the
// kernel gives a GEM, its reservation (dma_resv) and its gpuva lock (obj->gpuva.lock, immediate mode).
// Its creator holds one reference to the GEM until close(); each pair holds one more, so a closed BO lives
// until its last pair is freed. Both locks live in the GEM: it is never freed while one of them is held.
import { assertOptionsObject, invalidArgType, invalidArgValue } from '../arg-errors.js';
import { GemObject } from '../gpuvm/gem.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import type { LockGuard } from '../locks/guard.js';
import type { OwnedLock } from '../locks/owned-lock.js';
import type { ResvLock } from '../locks/resv.js';
import { DmaResv } from '../fence/dma-resv.js';
import type { WaitOptions } from '../fence/wait-options.js';
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
  resv?: DmaResv;
}

/** A GEM buffer object with its reservation and gpuva locks. */
export class Bo {
  /** The model's GEM. */
  readonly gem: GemObject;
  /** dma_resv: its lock guards `evicted`, and the pair list under the `resv` policy; it holds the BO's fences. */
  readonly resv: DmaResv;
  /** obj->gpuva.lock: guards the pair list in immediate mode; held only for synchronous sections. */
  readonly gpuvaLock: SyncLock;
  #immediate: boolean | null = null;
  // False when the reservation is shared (the VM's): freeing this BO does not free it.
  readonly #ownsResv: boolean;
  #closed = false;

  constructor(size: U64Like, options: BoOptions = {}) {
    assertOptionsObject(options);
    const name = options.name ?? 'bo';
    const bytes = toU64(size, 'size');
    if (options.resv !== undefined && !(options.resv instanceof DmaResv)) throw invalidArgType('resv', 'DmaResv', options.resv);
    this.gem = new BoGem(bytes, name, this);
    this.resv = options.resv ?? new DmaResv(`${name}.resv`);
    this.#ownsResv = options.resv === undefined;
    this.gpuvaLock = new SyncLock(`${name}.gpuva`, GPUVA_LOCK_CLASS);
  }

  /** The name given at creation. */
  get name(): string {
    return this.gem.name;
  }

  /** True once its creator closed it: no VM takes a new use of it, though its pairs keep it alive. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once the GEM is freed: closed, and its last pair gone. */
  get freed(): boolean {
    return this.gem.freed;
  }

  /**
   * Drops the creator's reference to the GEM; it is freed once no pair holds it either. If one of the BO's
   * own locks is held at that moment, the free waits until it is released: a GEM is never freed holding
   * its lock. Closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.putWhenUnlocked();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal One of the locks embedded in this BO's GEM that someone holds now, or null. */
  heldLock(): OwnedLock | null {
    if (this.gpuvaLock.holderTask !== null) return this.gpuvaLock;
    if (this.#ownsResv && this.resv.holderTask !== null) return this.resv;
    return null;
  }

  /**
   * @internal Drops one GEM reference, now if none of the BO's locks is held, else once they are all
   * released: the kernel's "put the GEM after unlocking".
   */
  putWhenUnlocked(): void {
    const held = this.heldLock();
    if (held === null) this.gem.put();
    else held.whenReleased(() => this.putWhenUnlocked());
  }

  /** @internal Keeps the GEM alive until none of its locks is held (a reference put after the unlock). */
  keepUntilUnlocked(): void {
    this.gem.get();
    this.putWhenUnlocked();
  }

  /** @internal Throws ERR_VM_BO_CLOSED if the creator closed this BO; `what` names the refused use. */
  checkOpen(what: string): void {
    if (this.#closed) throw new VmError('ERR_VM_BO_CLOSED', `${what}: BO '${this.name}' was closed`);
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

  /**
   * Eviction as TTM does it: waits, holding this BO's reservation (pass its guard), until every fence of
   * it has signalled, then {@link evict}s. Resolves true once evicted, false if `timeoutMs` passed first;
   * an aborted `signal` rejects with an AbortError. On false or an abort nothing changed. No fence can be
   * added meanwhile, since adding needs the reservation this call holds.
   */
  async evictWhenIdle(guard: LockGuard<ResvLock>, options: WaitOptions = {}): Promise<boolean> {
    guard.assertHolds(this.resv, `eviction of BO '${this.name}'`);
    if (!(await this.resv.waitIdle('bookkeep', options))) return false;
    this.evict(guard, true);
    return true;
  }
}

/** The Bo of a model GEM; every GEM the VM layer sees was made by a Bo. */
export function boOf(gem: GemObject): Bo {
  if (gem instanceof BoGem) return gem.bo;
  throw invalidArgValue('obj', gem, `(GEM '${gem.name}') must be the GEM of a Bo: the VM layer locks a BO's reservation and gpuva lock`);
}
