// SPDX-License-Identifier: MIT
// A kernel VM_BIND driver as a Gpu's backend: the driver's own VM create/destroy and BO create, and binds
// through KernelVmBindBackend with the handles of this Gpu's BOs. What differs per driver is a KernelDriver
// (vgpuvm-driver.ts, hardware-drivers.ts); this is what they share.
import type { DmaBuf } from '../drm/dma-buf.js';
import type { DrmDevice } from '../drm/drm-device.js';
import type { CommitFences, GpuVaAccess, GpuVmBackend } from '../backends/backend.js';
import { KernelVmBindBackend, type KernelBinder } from '../backends/kernel-vm-bind-backend.js';
import { backendFor } from '../backends/kernel-backend-catalogue.js';
import type { GemObject } from '../gpuvm/gem.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOps } from '../gpuvm/ops.js';
import type { GpuDescription, GpuFeature, GpuRefusal } from './description.js';
import type { DeviceBoParts, DeviceVmParts, DriverSupport, GpuJob, VmJobs, VmRequest } from './driver-support.js';
import { GpuError } from './errors.js';

/** A device VM the driver made: its id, its binder, and how it goes away. */
export interface KernelVmParts {
  /** The VM id, or null where the VM is the DRM file's one VM. */
  readonly vmId: number | null;
  readonly binder: KernelBinder;
  /** vm.read / vm.write through the kernel, where the driver has an ioctl for them (vgpuvm's VM_RW). */
  readonly vaAccess?: GpuVaAccess;
  /** VM_DESTROY (or what stands for it); the kernel drops every mapping of the VM with it. */
  destroy(): void;
  /** Jobs through the VM, where the driver has a submit ioctl this package issues (vgpuvm's EXEC). */
  readonly jobs?: VmJobs;
  /** drm_gpuvm_validate in the kernel, where the driver has an ioctl for it (vgpuvm's VM_VALIDATE). */
  readonly validate?: () => void;
}

/** What one kernel driver does its own way. */
export interface KernelDriver {
  /** The DRM driver name. */
  readonly name: string;
  /** Makes the device VM for `request`; `handleOf` names each BO's GEM handle for the binder. */
  createVm(device: DrmDevice, request: VmRequest, handleOf: (gem: GemObject) => number): KernelVmParts;
  /**
   * The driver's BO create: the new handle and the size the kernel gave it. `privateVm` (only where the
   * driver has VM-private BOs) is the VM to make it private to; its vmId is null for the file's one VM.
   */
  createBo(device: DrmDevice, size: bigint, privateVm: { readonly vmId: number | null } | null): { handle: number; size: bigint };
  /** drm_gpuvm_bo_gem_evict in the kernel, where the driver has an ioctl for it (vgpuvm's BO_EVICT). */
  readonly evictBo?: (device: DrmDevice, handle: number, evict: boolean) => void;
  /** The DRM file has one VM (nouveau, msm, amdgpu): one createVm per Gpu; with vmFirst, before any BO. */
  readonly oneVmPerFile: boolean;
  /** The VM must exist before the first BO (nouveau's VM_INIT, msm's EN_VM_BIND). */
  readonly vmFirst: boolean;
  /** Whether createBo takes a VM id (VM-private BOs sharing the VM's reservation in the kernel). */
  readonly kernelPrivateBos: boolean;
  readonly pageSizes: readonly number[];
  readonly sparse: GpuFeature;
  /** Whether its VMs give vm.read / vm.write (KernelVmParts.vaAccess); absent: they refuse. */
  readonly cpuVaAccess?: GpuFeature;
  /** How a bind's fences reach it, where that differs from what its catalogue entry says. */
  readonly bindSyncobjs?: GpuFeature;
  /** Whether its VMs run jobs (KernelVmParts.submit, vm.exec), and how; absent: they do not. */
  readonly exec?: GpuFeature;
  readonly refused: readonly GpuRefusal[];
}

/** KernelVmBindBackend, able to stop sending binds once its VM is about to be destroyed. */
class DiscardableBackend implements GpuVmBackend {
  readonly name: string;
  readonly inner: KernelVmBindBackend;
  discarding = false;

  constructor(inner: KernelVmBindBackend) {
    this.inner = inner;
    this.name = inner.name;
  }

  commit(vm: GpuVm, ops: GpuVaOps, fences?: CommitFences | null): void | Promise<void> {
    // VM_DESTROY removes every mapping at once: the model's unmaps need no ioctl of their own.
    if (this.discarding) return;
    return this.inner.commit(vm, ops, fences);
  }
}

/** A DiscardableBackend whose VA space the CPU reads and writes through the kernel (hasVaAccess sees it). */
class VaAccessBackend extends DiscardableBackend implements GpuVaAccess {
  readonly #access: GpuVaAccess;

  constructor(inner: KernelVmBindBackend, access: GpuVaAccess) {
    super(inner);
    this.#access = access;
  }

  read(addr: bigint, length: bigint): Uint8Array {
    return this.#access.read(addr, length);
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.#access.write(addr, bytes);
  }
}

/** A kernel driver's VM_BIND backend on one device. */
export class KernelSupport implements DriverSupport {
  readonly device: DrmDevice;
  readonly backendName: string;
  readonly kernelPrivateBos: boolean;
  readonly #driver: KernelDriver;
  #vms = 0;
  #bos = 0;

  constructor(device: DrmDevice, driver: KernelDriver) {
    this.device = device;
    this.#driver = driver;
    this.backendName = `${driver.name}-vm-bind`;
    this.kernelPrivateBos = driver.kernelPrivateBos;
  }

  createVm(request: VmRequest, handleOf: (gem: GemObject) => number): DeviceVmParts {
    const d = this.#driver;
    if (d.oneVmPerFile && this.#vms > 0) {
      throw new GpuError('ERR_GPU_UNSUPPORTED', `createVm: ${d.name} has one VM per DRM file, and this Gpu made it already; open another Gpu for another VM`);
    }
    if (d.vmFirst && this.#bos > 0) {
      throw new GpuError('ERR_GPU_UNSUPPORTED', `createVm: ${d.name} makes the file's VM only before its first BO, and this Gpu made BOs already`);
    }
    const vm = d.createVm(this.device, request, handleOf);
    this.#vms++;
    let inner: KernelVmBindBackend;
    try {
      inner = new KernelVmBindBackend(this.device, vm.binder);
    } catch (error) {
      vm.destroy();
      throw error;
    }
    const backend = vm.vaAccess === undefined ? new DiscardableBackend(inner) : new VaAccessBackend(inner, vm.vaAccess);
    return {
      backend,
      vmId: vm.vmId,
      ...(vm.jobs === undefined ? {} : { jobs: vm.jobs }),
      ...(vm.validate === undefined ? {} : { validate: vm.validate }),
      discard: (on) => {
        backend.discarding = on;
      },
      destroy: () => {
        try {
          vm.destroy();
        } finally {
          inner.close();
        }
      },
    };
  }

  createBo(size: bigint, privateVm: DeviceVmParts | null): DeviceBoParts {
    const d = this.#driver;
    if (d.vmFirst && this.#vms === 0) {
      throw new GpuError('ERR_GPU_UNSUPPORTED', `createBo: ${d.name} needs the file's VM before any BO; call createVm first`);
    }
    const kernelPrivate = this.kernelPrivateBos && privateVm !== null;
    const created = d.createBo(this.device, size, kernelPrivate ? privateVm : null);
    this.#bos++;
    const buffer = this.device.adoptGemHandle(created.handle, created.size);
    // A VM-private BO of the kernel cannot be exported, so it has no dma-buf to map.
    return { buffer, memory: null, cpuMappable: !kernelPrivate, release: () => buffer.close(), ...this.#evictOf(buffer.handle) };
  }

  importBo(dmaBuf: DmaBuf): DeviceBoParts {
    try {
      const buffer = this.device.importDmaBuf(dmaBuf);
      return { buffer, memory: null, cpuMappable: true, release: () => buffer.close(), ...this.#evictOf(buffer.handle) };
    } finally {
      // The GEM handle holds the import; the fd is not needed any more.
      dmaBuf.close();
    }
  }

  startJob(): GpuJob {
    const d = this.#driver;
    throw new GpuError('ERR_GPU_UNSUPPORTED', d.exec?.supported === true
      ? `startJob: a job on ${d.name} is GPU work, not a fence its caller signals: run commands with vm.exec`
      : `startJob: jobs on ${d.name} need its submit ioctl, which this package does not issue`);
  }

  describe(): GpuDescription {
    const d = this.#driver;
    const entry = backendFor(d.name);
    return {
      kind: 'drm',
      path: this.device.path,
      driver: d.name,
      backend: this.backendName,
      binds: entry === undefined ? `${d.name} VM_BIND` : `VM: ${entry.vm}; BOs: ${entry.boCreate}; binds: ${entry.bindIoctl}` +
        (entry.batch === 'one-ioctl' ? ' (one ioctl per request)' : ' (one ioctl per request, not atomic across requests)'),
      sparse: d.sparse,
      cpuVaAccess: d.cpuVaAccess ?? { supported: false, how: 'the GPU page tables are the kernel\'s: no CPU view of the VA space (vm.read / vm.write refuse, ERR_VM_NO_VA_ACCESS); map a BO instead' },
      boCpuMapping: { supported: true, how: 'through the BO\'s dma-buf (PRIME export, then mmap)' + (d.kernelPrivateBos ? '; not for VM-private BOs, which cannot be exported' : '') },
      privateBos: d.kernelPrivateBos
        ? { supported: true, how: 'made by the driver for the VM (they share its reservation in the kernel too)' }
        : { supported: true, how: `in the model only (the BO shares the VM's reservation): ${d.name}'s BO create has no VM` },
      dmaBuf: { supported: true, how: 'PRIME export and import' },
      jobs: d.exec?.supported === true
        ? { supported: false, how: `a job on ${d.name} is GPU work the device signals, not a fence code signals: vm.exec (describe().exec)` }
        : { supported: false, how: `${d.name}'s submit ioctl is not issued by this package` },
      exec: d.exec ?? { supported: false, how: `${d.name}'s submit ioctl is not issued by this package` },
      bindSyncobjs: d.bindSyncobjs ?? (entry?.syncobjs === true
        ? { supported: true, how: `${entry.bindIoctl} carries them: each in-fence read through a sync_file is imported into an in-syncobj (the VM has waited for it, so an aborted wait changes nothing), and a Syncobj of this device given as outFence is signalled by the bind` }
        : { supported: false, how: `${d.name}'s bind takes no syncobjs here: the VM waits for the in-fences and signals the out-fence itself` }),
      pageSizes: d.pageSizes,
      verified: entry?.verified ?? 'abi-and-translation-tests',
      refused: d.refused,
    };
  }

  close(): void {
    // Each VM's completion syncobj goes with its VM; the device fd is the Gpu's.
  }

  #evictOf(handle: number): Pick<DeviceBoParts, 'evict'> {
    const evictBo = this.#driver.evictBo;
    return evictBo === undefined ? {} : { evict: (evict) => evictBo(this.device, handle, evict) };
  }
}
