// SPDX-License-Identifier: MIT
// A VM of a Gpu: the VM layer's Vm (this object is that Vm) over the device VM its driver made, committing
// through the backend the driver name chose. It maps only its Gpu's BOs, and closing it takes everything
// down in the kernel's order: every mapping out of the model (the backend's unmaps, or none where the
// device VM's destruction removes them all at once), the zombies cleaned up, then the device VM destroyed.
import type { VmBoValidate } from '../vm/exec.js';
import { Bo } from '../vm/bo.js';
import type { VmBoPolicy } from '../vm/policy.js';
import type { BindFenceOptions } from '../vm/fences.js';
import { Vm, type VmMapRequest } from '../vm/vm.js';
import type { U64Like } from '../u64.js';
import { DeviceBo } from './device-bo.js';
import type { DeviceVmParts } from './driver-support.js';
import { GpuError } from './errors.js';
import type { Gpu } from './gpu.js';

/** Options of {@link Gpu.createVm}. */
export interface DeviceVmOptions {
  /** For messages and lock names. */
  name?: string;
  /** Who may drop the last reference to a pair, and under which lock (see VmBoPolicy). */
  policy: VmBoPolicy;
  /** First address of the VA space (u64); default 0. */
  start?: U64Like;
  /** Size of the VA space (u64). */
  range: U64Like;
  /** ops->vm_bo_validate: makes an evicted pair's BO resident again; without it validate() is EOPNOTSUPP. */
  validate?: VmBoValidate;
}

/** @internal How a Gpu makes a DeviceVm. */
export interface DeviceVmInit {
  readonly gpu: Gpu;
  readonly parts: DeviceVmParts;
  readonly name: string;
  readonly policy: VmBoPolicy;
  readonly start: bigint;
  readonly range: bigint;
  readonly validate: VmBoValidate | undefined;
}

/** A GPU VM of a Gpu: a Vm whose backend is the device's, owning its device VM. */
export class DeviceVm extends Vm {
  /** The Gpu that made it. */
  readonly gpu: Gpu;
  /** The driver's VM id, or null where the device has none (the VA window, a DRM file's one VM). */
  readonly vmId: number | null;
  /** @internal What the device side is made of. */
  readonly parts: DeviceVmParts;
  #destroyed = false;

  /** @internal Made by Gpu.createVm. */
  constructor(init: DeviceVmInit) {
    super({ name: init.name, policy: init.policy, start: init.start, range: init.range, backend: init.parts.backend, validate: init.validate });
    this.gpu = init.gpu;
    this.parts = init.parts;
    this.vmId = init.parts.vmId;
  }

  /** Maps a BO of this Gpu (see Vm.map); another Gpu's BO, or one private to another VM, is refused first. */
  override map(req: VmMapRequest): Promise<void> {
    if (typeof req !== 'object' || req === null) return super.map(req);
    const bo = req.bo ?? null;
    const refusal = this.#refusal(bo);
    if (refusal !== null) return Promise.reject(refusal);
    return this.#thenReap(super.map({ ...req, bo }));
  }

  /** Unmaps (see Vm.unmap); a closed BO whose last mapping goes here gives its device memory back. */
  override unmap(addr: U64Like, range: U64Like, options: BindFenceOptions = {}): Promise<void> {
    if (this.#destroyed) return Promise.reject(this.#destroyedError());
    return this.#thenReap(super.unmap(addr, range, options));
  }

  /** Frees the zombies (see Vm.deferredCleanup), then gives the device memory of freed BOs back. */
  override async deferredCleanup(): Promise<number> {
    try {
      return await super.deferredCleanup();
    } finally {
      this.gpu.reap();
    }
  }

  /**
   * Unmaps everything, frees the zombies and destroys the device VM. Refused, changing nothing, while a
   * request is in flight or a BOOKKEEP fence of the VM is unsignalled (the GPU may still use its memory;
   * ERR_GPU_BUSY), or while a reference obtained with obtain() is held (ERR_VM_BUSY, naming it). Closing twice is a no-op; gpu.close() closes every VM of the Gpu.
   */
  override close(): void {
    if (this.closed) return;
    if (this.requestsInFlight > 0) {
      throw new GpuError('ERR_GPU_BUSY', `VM '${this.name}' has ${this.requestsInFlight} request(s) in flight: await them before closing it`);
    }
    if (!this.resv.testSignaled('bookkeep')) {
      throw new GpuError('ERR_GPU_BUSY', `VM '${this.name}' has unsignalled fences: work on the GPU may still use its memory; wait for them (vm.resv.waitIdle()) before closing it`);
    }
    // Only the mappings go below: a reference the caller holds is theirs to put, so the Vm's refusal names it now.
    if (this.pairs().some((vmBo) => this.refsHeld(vmBo) > 0) || this.refusedDrops().length > 0) super.close();
    if (!this.#destroyed) {
      this.parts.discard(true);
      // Uncontended, with a backend done when commit returns (or discarding), this runs to the end right here.
      super.unmap(this.gpuvm.start, this.gpuvm.range).catch(() => {});
      if (this.mappings().length > 0) {
        this.parts.discard(false);
        throw new GpuError('ERR_GPU_BUSY', `VM '${this.name}': its mappings could not all be unmapped now (a BO's reservation or gpuva lock is held ` +
          'elsewhere, or the backend refused); release it, then close again');
      }
      // Synchronous in effect (the VM is not RESV_PROTECTED); a pair it could not free makes super.close() say so.
      super.deferredCleanup().catch(() => {});
    }
    super.close();
    this.destroy();
    // A closed BO whose last pair this VM held is freed now: its device memory and handle go back too.
    this.gpu.reap();
  }

  /** @internal Destroys the device VM now, whatever the model holds (Gpu.close after a refused close). */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    try {
      this.parts.destroy();
    } finally {
      this.gpu.forgetVm(this);
    }
  }

  #refusal(bo: Bo | null): Error | null {
    if (this.#destroyed) return this.#destroyedError();
    // Anything that is not a Bo is the Vm's to refuse (ERR_INVALID_ARG_TYPE).
    if (bo === null || !(bo instanceof Bo)) return null;
    if (!(bo instanceof DeviceBo) || bo.gpu !== this.gpu) {
      return new GpuError('ERR_GPU_FOREIGN_BO', `map in VM '${this.name}': BO '${bo.name}' is not a BO of this VM's Gpu (${this.gpu.device.path}); make it with gpu.createBo or gpu.importBo`);
    }
    if (bo.privateTo !== null && bo.privateTo !== this) {
      return new GpuError('ERR_GPU_PRIVATE_BO', `map in VM '${this.name}': BO '${bo.name}' is private to VM '${bo.privateTo.name}'`);
    }
    return null;
  }

  #destroyedError(): GpuError {
    return new GpuError('ERR_GPU_CLOSED', `VM '${this.name}': its device VM was destroyed (its Gpu closed)`);
  }

  #thenReap(request: Promise<void>): Promise<void> {
    return request.finally(() => this.gpu.reap());
  }
}
