// SPDX-License-Identifier: MIT
// What a Gpu needs from its driver's backend: how a VM is made and destroyed, how a BO gets memory and a
// handle, how a dma-buf comes in, and what to say about it. One implementation per backend kind: the VA
// window (software device, vgem) and each kernel VM_BIND driver.
import type { Buffer, Device } from '../drm/device.js';
import type { DmaBuf } from '../drm/dma-buf.js';
import type { GpuVmBackend } from '../backends/backend.js';
import type { WindowMemory } from '../backends/va-window-memory.js';
import type { GemObject } from '../gpuvm/gem.js';
import type { VmBoPolicy } from '../vm/policy.js';
import type { Fence } from '../fence/fence.js';
import type { GpuDescription } from './description.js';
import type { ExecJob, GpuCommand } from './exec-job.js';

/** A unit of GPU work on some BOs, as a fence its code (or the device) signals. */
export interface GpuJob extends Fence, Disposable {
  /** Ends the job (the fence signals; with an error where the device can carry one). */
  signal(error?: Error): void;
  /** Releases what the job holds (a sync_file); the fence stays as it is. */
  close(): void;
}

/** How a VM is asked for. */
export interface VmRequest {
  readonly name: string;
  readonly start: bigint;
  readonly range: bigint;
  /** Immediate mode (gpuva-lock and deferred policies): the kernel VM is created in that mode where it has one. */
  readonly immediate: boolean;
  /** The VM's VmBo lifetime policy, for a driver that runs each one itself (vgpuvm). */
  readonly policy: VmBoPolicy;
}

/** A VM on the device: the backend its Vm commits through, and how the device side goes away. */
export interface DeviceVmParts {
  readonly backend: GpuVmBackend;
  /** The driver's VM id (VM_CREATE), or null where the VM is the DRM file's one VM or has no id. */
  readonly vmId: number | null;
  /**
   * From now on commits change only the model: the device VM is about to be destroyed, which takes every
   * mapping with it (VM_DESTROY, or the window given back). Undone by `discard(false)`.
   */
  discard(on: boolean): void;
  /** Destroys the device VM (after its mappings are gone from the model). */
  destroy(): void;
  /** Jobs of the device VM (vm.exec); absent where the package issues no submit ioctl for the driver. */
  readonly jobs?: VmJobs;
  /** drm_gpuvm_validate of the device VM, where the driver has an ioctl for it (vgpuvm's VM_VALIDATE). */
  readonly validate?: () => void;
}

/** How a device VM runs jobs. */
export interface VmJobs {
  /** Refuses bad commands with typed errors, issuing nothing: vm.exec checks before it locks anything. */
  check(commands: readonly GpuCommand[]): void;
  /** Submits `commands` as a job that runs once every job of `after` (jobs of this device) is done. */
  submit(commands: readonly GpuCommand[], after: readonly ExecJob[], name: string): ExecJob;
}

/** A BO's device side: its buffer (memory and handle) and what a VA window maps, if the backend has windows. */
export interface DeviceBoParts {
  readonly buffer: Buffer;
  readonly memory: WindowMemory | null;
  /** Maps all of the BO for the CPU, or throws saying why the device cannot. */
  readonly cpuMappable: boolean;
  /** Releases the buffer and what came with it (the window must no longer map it). */
  release(): void;
  /** Marks the BO's pairs evicted (or valid again) in the device too, where the driver has an ioctl for it. */
  readonly evict?: (evict: boolean) => void;
}

/** One backend kind on one device. */
export interface DriverSupport {
  readonly device: Device;
  /** The backend's name, as describe() reports it. */
  readonly backendName: string;
  createVm(request: VmRequest, handleOf: (gem: GemObject) => number, memoryOf: (gem: GemObject) => WindowMemory | undefined): DeviceVmParts;
  /** A BO of `size` bytes; `privateVm` is the driver's id of the VM it is private to, where the driver has such BOs. */
  createBo(size: bigint, privateVm: DeviceVmParts | null): DeviceBoParts;
  /** The device's buffer for a dma-buf made elsewhere; takes ownership of `dmaBuf`. */
  importBo(dmaBuf: DmaBuf): DeviceBoParts;
  /** Whether the driver makes VM-private BOs itself (else they are private in the model only). */
  readonly kernelPrivateBos: boolean;
  /** A job on `buffers`: a fence the device puts in their reservations where it can, or says why not. */
  startJob(buffers: readonly Buffer[], write: boolean, name: string): GpuJob;
  describe(): GpuDescription;
  /** Releases what the backend holds for the device (after every VM and BO is gone). */
  close(): void;
}
