// SPDX-License-Identifier: MIT
// One counted reference to a (VM, BO) pair, as a value: `using ref = vm.obtain(bo)` drops it at scope exit,
// the TypeScript form of the Rust drop the kernel debate was about. What the drop may do depends on the
// VM's policy; under `resv` the last drop needs the BO's reservation, and a drop that cannot show a guard
// for it fails loudly, keeping the reference: the error carries it, the VM lists it among its refused
// drops, and a later put with the proof completes it.
import type { VmBo } from '../gpuvm/vm-bo.js';
import type { LockError } from '../locks/errors.js';
import type { LockGuard } from '../locks/guard.js';
import type { ResvLock } from '../locks/resv.js';
import { VmError } from './errors.js';

/** What a reference needs from its VM. */
export interface VmBoRefOwner {
  /** Drops the reference by the VM's policy; throws and changes nothing if the policy refuses. */
  releaseRef(ref: VmBoRef, guard: LockGuard<ResvLock> | null): void;
}

/** Where a reference was obtained: a stack captured by Vm.obtain, formatted only when asked for. */
export interface ObtainSite {
  readonly stack?: string;
}

/** A counted reference to a VmBo; put it once, explicitly or by `using`. */
export class VmBoRef implements Disposable {
  readonly #owner: VmBoRefOwner;
  readonly #vmBo: VmBo;
  readonly #guard: LockGuard<ResvLock> | null;
  readonly #site: ObtainSite;
  #released = false;
  #refusal: LockError | null = null;

  /** @internal made by `Vm.obtain`. */
  constructor(owner: VmBoRefOwner, vmBo: VmBo, guard: LockGuard<ResvLock> | null, site: ObtainSite) {
    this.#owner = owner;
    this.#vmBo = vmBo;
    this.#guard = guard;
    this.#site = site;
  }

  /** The pair; refused once the reference was put (ERR_VM_REF_RELEASED). */
  get vmBo(): VmBo {
    if (this.#released) throw new VmError('ERR_VM_REF_RELEASED', `this reference to the pair of BO '${this.#vmBo.obj.name}' was already put`);
    return this.#vmBo;
  }

  /** The name of the pair's BO, readable after the put too (for messages). */
  get boName(): string {
    return this.#vmBo.obj.name;
  }

  /** The reservation guard given to obtain, which a drop at scope exit uses as its proof. */
  get guard(): LockGuard<ResvLock> | null {
    return this.#guard;
  }

  /** True once put. */
  get released(): boolean {
    return this.#released;
  }

  /** The caller of `vm.obtain` that made this reference, as a stack frame (`at fn (file:line:col)`). */
  get obtainedAt(): string {
    const frame = this.#site.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
    return frame?.trim() ?? 'unknown';
  }

  /** Why the last drop was refused, while that drop is still to complete; null otherwise. */
  get refusal(): LockError | null {
    return this.#refusal;
  }

  /** @internal records (or, with null, clears) a refused drop. */
  setRefusal(refusal: LockError | null): void {
    this.#refusal = refusal;
  }

  /**
   * Drops the reference. Under the `resv` policy the last one needs a guard of the BO's reservation: `guard`,
   * or the one given to obtain. On any error the reference is still held and nothing changed.
   */
  put(guard?: LockGuard<ResvLock>): void {
    this.#owner.releaseRef(this, guard ?? null);
    this.#released = true;
  }

  /** Drops the reference unless already put. */
  [Symbol.dispose](): void {
    if (!this.#released) this.put();
  }
}
