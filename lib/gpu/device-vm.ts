// SPDX-License-Identifier: MIT
// A VM of a Gpu: the VM layer's Vm (this object is that Vm) over the device VM its driver made, committing
// through the backend the driver name chose. It maps only its Gpu's BOs, and closing it takes everything
// down in the kernel's order: every mapping out of the model (the backend's unmaps, or none where the
// device VM's destruction removes them all at once), the zombies cleaned up, then the device VM destroyed.
// Where the driver runs jobs, vm.exec submits them as a driver's submission does.
import { assertOptionsObject, invalidArgType } from '../arg-errors.js';
import { checkFence, type Fence } from '../fence/fence.js';
import { waitAll } from '../fence/wait-all.js';
import { currentTask, runTask } from '../locks/task.js';
import type { DrmExec } from '../locks/exec.js';
import type { VmBoValidate } from '../vm/exec.js';
import { Bo } from '../vm/bo.js';
import type { VmBoPolicy } from '../vm/policy.js';
import type { BindFenceOptions } from '../vm/fences.js';
import { Vm, type VmMapRequest } from '../vm/vm.js';
import type { U64Like } from '../u64.js';
import { DeviceBo } from './device-bo.js';
import type { DeviceVmParts } from './driver-support.js';
import { GpuError } from './errors.js';
import { ExecJob, type GpuCommand } from './exec-job.js';
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
  /**
   * ops->vm_bo_validate: makes an evicted pair's BO resident again; without it validate() is EOPNOTSUPP,
   * except where the driver runs jobs (vgpuvm), whose kernel validates at every vm.exec: there the model's
   * pairs are then taken off the evict list with it, and this callback, when given, runs for each too.
   */
  validate?: VmBoValidate;
}

/** Options of {@link DeviceVm.exec}. */
export interface ExecOptions {
  /**
   * The job starts once each of these fences has signalled: jobs of this Gpu are waited for by the kernel
   * (in-syncs), any other fence here first. Ordering only: an error of one does not stop the job.
   */
  after?: readonly Fence[];
  /** For messages. Default 'exec'. */
  name?: string;
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
    // The kernel validates at every submission; the model must take its pairs off the evict list with it.
    const validate = init.validate ?? (init.parts.jobs === undefined ? undefined : () => {});
    // Its VM_BIND waits for every job of the VM: the Vm waits first, so the thread never blocks on a job there.
    const bindsWaitForJobs = init.parts.jobs !== undefined;
    super({ name: init.name, policy: init.policy, start: init.start, range: init.range, backend: init.parts.backend, validate, bindsWaitForJobs });
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

  /**
   * Runs `commands` on the device through this VM's GPU addresses, as a job (on vgpuvm: EXEC on a drm_sched
   * queue of the VM; describe().exec says where there are jobs). As a driver's submission: it waits for the
   * `after` fences that are not jobs of this Gpu, locks the VM's and its extobjs' reservations (execLock),
   * validates evicted pairs, submits, and adds the job's fence to those reservations (BOOKKEEP), so that
   * unmaps, evictions and close() wait for the job. The job's commands run in order, after this VM's earlier
   * jobs; a command that touches an address no BO backs faults the job (its error: ERR_GPU_JOB_FAULT).
   * The Gpu releases the job on close(), or close it once it is done.
   */
  async exec(commands: readonly GpuCommand[], options: ExecOptions = {}): Promise<ExecJob> {
    assertOptionsObject(options);
    const { after = [], name = 'exec' } = options;
    if (!Array.isArray(after as unknown)) throw invalidArgType('options.after', 'Array', after);
    const fences = after.map((fence, i) => checkFence(fence, `options.after[${i}]`));
    if (typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    if (this.#destroyed) throw this.#destroyedError();
    this.checkOpen();
    const jobs = this.parts.jobs;
    if (jobs === undefined) throw new GpuError('ERR_GPU_UNSUPPORTED', `exec in VM '${this.name}': ${this.gpu.describe().exec.how}`);
    // Bad commands are refused before anything waits or is locked (and so before validation changes a list).
    jobs.check(commands);
    // Jobs of this device wait in the kernel; a closed one has no syncobj left to wait for there.
    const inKernel = fences.filter((fence): fence is ExecJob => fence instanceof ExecJob && !fence.closed && fence.syncobj.device === this.gpu.device);
    const here = fences.filter((fence) => !inKernel.includes(fence as ExecJob));
    if (here.length > 0) await waitAll(here);
    const locked = async (): Promise<ExecJob> => {
      using exec = await this.execLock({ numFences: 1 });
      // The model's half only: EXEC validates in the kernel itself.
      await super.validate(exec);
      if (this.#destroyed) throw this.#destroyedError();
      const job = jobs.submit(commands, inKernel, name);
      this.gpu.adoptJob(job);
      this.addFence(job, { usage: 'bookkeep' });
      return job;
    };
    // The reservations are held by the caller's lock task, or by one of the job's own.
    return currentTask() !== null ? locked() : runTask(`${this.name}.exec`, locked);
  }

  /**
   * drm_gpuvm_validate (see Vm.validate), in the device too where its driver has an ioctl for it (vgpuvm's
   * VM_VALIDATE, which locks the VM and its extobjs itself), so the kernel's evict list follows the model's.
   */
  override async validate(exec: DrmExec): Promise<void> {
    await super.validate(exec);
    this.parts.validate?.();
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
