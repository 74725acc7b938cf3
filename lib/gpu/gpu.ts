// SPDX-License-Identifier: MIT
// One GPU, end to end: the device, the backend its driver name chose, and every VM and BO made on it. The
// Gpu owns all it creates (device VMs, GEM handles, BO memory, dma-bufs) and releases it in the kernel's
// order on close: VMs first (their mappings, then the device VM), then BOs (dma-bufs and mappings, then
// memory and handles), then the device. `using` works at every level and in any order.
import { assertOptionsObject, invalidArgType } from '../arg-errors.js';
import type { Device } from '../drm/device.js';
import { DmaBuf } from '../drm/dma-buf.js';
import type { WaitOptions } from '../fence/wait-options.js';
import type { GemObject } from '../gpuvm/gem.js';
import type { WindowMemory } from '../backends/va-window-memory.js';
import { toU64, type U64Like } from '../u64.js';
import { boOf } from '../vm/bo.js';
import { VM_BO_POLICIES } from '../vm/policy.js';
import type { GpuDescription } from './description.js';
import { DeviceBo, type DeviceBoOptions } from './device-bo.js';
import { DeviceVm, type DeviceVmOptions } from './device-vm.js';
import type { DriverSupport, GpuJob } from './driver-support.js';
import type { ExecJob } from './exec-job.js';
import { GpuError } from './errors.js';
import { isInstance } from '../drm/resource.js';

/** Options of {@link Gpu.importBo}. */
export interface ImportBoOptions {
  /** For messages and dumps. */
  name?: string;
}

/** Options of {@link Gpu.startJob}. */
export interface StartJobOptions {
  /** The job writes its BOs (exclusive fences) instead of reading them. Default false. */
  write?: boolean;
  /** For messages. */
  name?: string;
}

/** What a Gpu holds now (for leak checks): open VMs, BOs whose device side is not released yet, open jobs. */
export interface GpuResources {
  readonly vms: number;
  readonly bos: number;
  readonly jobs: number;
}

/** A job the Gpu tracks until it is closed (by its user, or by gpu.close()). */
class TrackedJob implements GpuJob {
  readonly #job: GpuJob;
  readonly #open: Set<TrackedJob>;

  constructor(job: GpuJob, open: Set<TrackedJob>) {
    this.#job = job;
    this.#open = open;
  }

  get context(): number {
    return this.#job.context;
  }

  get name(): string {
    return this.#job.name;
  }

  get signaled(): boolean {
    return this.#job.signaled;
  }

  get error(): Error | null {
    return this.#job.error;
  }

  wait(options?: WaitOptions): PromiseLike<boolean> {
    return this.#job.wait(options);
  }

  signal(error?: Error): void {
    this.#job.signal(error);
  }

  close(): void {
    this.#open.delete(this);
    this.#job.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A device with its backend, and everything made on it. Made by {@link openGpu}. */
export class Gpu implements Disposable {
  /** The device: a DrmDevice, or the SoftwareDevice. Owned by this Gpu. */
  readonly device: Device;
  /** The driver name that chose the backend. */
  readonly driver: string;
  /** The backend every VM commits through (describe().backend). */
  readonly backend: string;
  readonly #support: DriverSupport;
  readonly #vms = new Set<DeviceVm>();
  readonly #bos = new Set<DeviceBo>();
  readonly #jobs = new Set<TrackedJob>();
  readonly #execJobs = new Set<ExecJob>();
  #description: GpuDescription | null = null;
  #closed = false;
  #vmCount = 0;
  #boCount = 0;

  /** @internal Made by openGpu, which owns `device` until this returns. */
  constructor(support: DriverSupport) {
    this.#support = support;
    this.device = support.device;
    this.driver = support.device.driver;
    this.backend = support.backendName;
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A VM on the device, committing through its backend (VM_CREATE where the driver has it). */
  createVm(options: DeviceVmOptions): DeviceVm {
    assertOptionsObject(options);
    const { name, policy, validate } = options;
    if (!VM_BO_POLICIES.includes(policy)) throw invalidArgType('options.policy', "'resv', 'gpuva-lock' or 'deferred'", policy);
    if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    if (validate !== undefined && typeof validate !== 'function') throw invalidArgType('options.validate', 'function', validate);
    const start = toU64(options.start ?? 0n, 'options.start');
    const range = toU64(options.range, 'options.range');
    this.#checkOpen('createVm');
    const vmName = name ?? `vm${this.#vmCount++}`;
    const parts = this.#support.createVm({ name: vmName, start, range, immediate: policy !== 'resv', policy }, (gem) => this.#handleOf(gem), (gem) => this.#memoryOf(gem));
    let vm: DeviceVm;
    try {
      vm = new DeviceVm({ gpu: this, parts, name: vmName, policy, start, range, validate });
    } catch (error) {
      parts.destroy();
      throw error;
    }
    this.#vms.add(vm);
    return vm;
  }

  /** A BO of at least `size` bytes (rounded up as the device does): device memory and handle, and the model Bo. */
  createBo(size: U64Like, options: DeviceBoOptions = {}): DeviceBo {
    assertOptionsObject(options);
    const { name, private: privateVm } = options;
    if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    if (privateVm !== undefined && !(privateVm instanceof DeviceVm)) throw invalidArgType('options.private', 'DeviceVm', privateVm);
    const bytes = toU64(size, 'size');
    this.#checkOpen('createBo');
    if (privateVm !== undefined) {
      if (privateVm.gpu !== this) throw new GpuError('ERR_GPU_FOREIGN_BO', `createBo: VM '${privateVm.name}' belongs to another Gpu`);
      privateVm.checkOpen();
    }
    const parts = this.#support.createBo(bytes, privateVm?.parts ?? null);
    return this.#adopt(parts, name ?? `bo${this.#boCount++}`, false, privateVm ?? null);
  }

  /**
   * A BO for a dma-buf made elsewhere (another device, another process): an fd, which the caller keeps, or
   * a DmaBuf. It is external: an extobj of every VM that maps it.
   */
  importBo(source: number | DmaBuf, options: ImportBoOptions = {}): DeviceBo {
    assertOptionsObject(options);
    const { name } = options;
    if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    if (typeof source !== 'number' && !(isInstance(source, DmaBuf))) throw invalidArgType('source', ['number', 'DmaBuf'], source);
    this.#checkOpen('importBo');
    // Our own duplicate of the fd, whichever the caller gave: theirs stays theirs to close.
    const dmaBuf = DmaBuf.fromFd(typeof source === 'number' ? source : source.fd);
    const parts = this.#support.importBo(dmaBuf);
    return this.#adopt(parts, name ?? `import${this.#boCount++}`, true, null);
  }

  /**
   * A job on `bos`, as a fence: on vgem, a vgem fence attached to each BO (the kernel puts it in their
   * dma_resv; dma-buf poll and sync_file see it), read back from the kernel; on the software device, a
   * software fence. `job.signal()` ends it. Add it to the model's reservations with vm.addFence (or
   * bo.resv.addFence) so binds and evictions wait for it. The Gpu closes it on close().
   */
  startJob(bos: readonly DeviceBo[], options: StartJobOptions = {}): GpuJob {
    if (!Array.isArray(bos as unknown) || bos.length === 0) throw invalidArgType('bos', 'a non-empty array of DeviceBo', bos);
    assertOptionsObject(options);
    const { write = false, name = 'job' } = options;
    if (typeof write !== 'boolean') throw invalidArgType('options.write', 'boolean', write);
    if (typeof name !== 'string') throw invalidArgType('options.name', 'string', name);
    const buffers = bos.map((bo, i) => {
      if (!(bo instanceof DeviceBo)) throw invalidArgType(`bos[${i}]`, 'DeviceBo', bo);
      if (bo.gpu !== this) throw new GpuError('ERR_GPU_FOREIGN_BO', `startJob: BO '${bo.name}' is not a BO of this Gpu`);
      if (bo.released) throw new GpuError('ERR_GPU_CLOSED', `startJob: BO '${bo.name}' was released`);
      return bo.buffer;
    });
    this.#checkOpen('startJob');
    const job = new TrackedJob(this.#support.startJob(buffers, write, name), this.#jobs);
    this.#jobs.add(job);
    return job;
  }

  /** The device, its backend, and what it can and cannot do. */
  describe(): GpuDescription {
    this.#description ??= this.#support.describe();
    return this.#description;
  }

  /** Open VMs, BOs whose device side is not released yet, and jobs (startJob's and vm.exec's) not closed. */
  resources(): GpuResources {
    for (const job of this.#execJobs) if (job.closed) this.#execJobs.delete(job);
    return { vms: this.#vms.size, bos: this.#bos.size, jobs: this.#jobs.size + this.#execJobs.size };
  }

  /**
   * Closes every VM (unmapping what is mapped and destroying the device VM), closes every job, releases every
   * BO's device side, then closes the device. A VM that refuses to close (a reference the caller still holds, a request in
   * flight) is destroyed on the device anyway; the error then says which, once everything is released.
   * Closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const refusals: unknown[] = [];
    for (const vm of [...this.#vms]) {
      try {
        vm.close();
      } catch (error) {
        refusals.push(error);
        vm.destroy();
      }
    }
    try {
      for (const job of [...this.#jobs]) job.close();
      // The device VMs are gone, and the kernel ended their jobs with them.
      for (const job of this.#execJobs) job.release();
      this.#execJobs.clear();
      for (const bo of this.#bos) bo.release();
      this.#bos.clear();
      this.#support.close();
    } finally {
      this.device.close();
    }
    if (refusals.length > 0) {
      throw new GpuError('ERR_GPU_BUSY', `${refusals.length} VM(s) refused to close: ${refusals.map((e) => (e as Error).message).join('; ')}; ` +
        'their device VMs, every BO and the device were released anyway', { cause: new AggregateError(refusals) });
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Gives back the device side of every BO whose model GEM is freed (closed, and no pair left). */
  reap(): void {
    for (const bo of this.#bos) {
      if (!bo.freed) continue;
      this.#bos.delete(bo);
      bo.release();
    }
  }

  /** @internal A job vm.exec submitted: released on close() if its user has not closed it. */
  adoptJob(job: ExecJob): void {
    this.#execJobs.add(job);
  }

  /** @internal Called by a DeviceVm whose device VM is destroyed. */
  forgetVm(vm: DeviceVm): void {
    this.#vms.delete(vm);
  }

  #adopt(parts: DeviceBo['parts'], name: string, external: boolean, privateTo: DeviceVm | null): DeviceBo {
    let bo: DeviceBo;
    try {
      bo = new DeviceBo({ gpu: this, parts, name, resv: privateTo?.resv, external, privateTo });
    } catch (error) {
      parts.release();
      throw error;
    }
    this.#bos.add(bo);
    return bo;
  }

  #deviceBoOf(gem: GemObject): DeviceBo {
    const bo = boOf(gem);
    if (!(bo instanceof DeviceBo) || bo.gpu !== this) throw new GpuError('ERR_GPU_FOREIGN_BO', `GEM '${gem.name}' is not a BO of this Gpu`);
    return bo;
  }

  #handleOf(gem: GemObject): number {
    return this.#deviceBoOf(gem).handle;
  }

  #memoryOf(gem: GemObject): WindowMemory | undefined {
    return this.#deviceBoOf(gem).parts.memory ?? undefined;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new GpuError('ERR_GPU_CLOSED', `${what}: the Gpu on ${this.device.path} is closed`);
  }
}
