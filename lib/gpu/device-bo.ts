// SPDX-License-Identifier: MIT
// A BO of a Gpu is one thing: its device memory and GEM handle (a Buffer of the device), the VM layer's Bo
// with its reservation and gpuva lock (this object is that Bo), and, where the device can, its dma-buf and
// a CPU mapping. Its device side lives as long as the model's GEM: a closed BO still mapped somewhere keeps
// its memory and handle until its last pair is freed, then the Gpu releases them.
import type { Buffer } from '../drm/device.js';
import type { DmaBuf } from '../drm/dma-buf.js';
import type { Mapping } from '../drm/mapping.js';
import type { DmaResv } from '../fence/dma-resv.js';
import type { LockGuard } from '../locks/guard.js';
import type { ResvLock } from '../locks/resv.js';
import { Bo } from '../vm/bo.js';
import type { DeviceBoParts } from './driver-support.js';
import type { DeviceVm } from './device-vm.js';
import { GpuError } from './errors.js';
import type { Gpu } from './gpu.js';

/** Options of {@link Gpu.createBo}. */
export interface DeviceBoOptions {
  /** For messages and dumps. */
  name?: string;
  /**
   * Make the BO private to this VM: it shares the VM's reservation (not an extobj), maps only there and is
   * never exported; on drivers with VM-private BOs (xe, panthor) the kernel makes it so too.
   */
  private?: DeviceVm;
}

/** @internal How a Gpu makes a DeviceBo. */
export interface DeviceBoInit {
  readonly gpu: Gpu;
  readonly parts: DeviceBoParts;
  readonly name: string;
  readonly resv: DmaResv | undefined;
  readonly external: boolean;
  readonly privateTo: DeviceVm | null;
}

/** A buffer object of a Gpu: device memory, GEM handle, the model Bo and its locks, dma-buf and CPU mapping. */
export class DeviceBo extends Bo {
  /** The Gpu that made it; only that Gpu's VMs map it. */
  readonly gpu: Gpu;
  /** The device buffer: its memory and its handle on the Gpu's DRM file (the software device's number there). */
  readonly buffer: Buffer;
  /** Imported from a dma-buf made elsewhere (gpu.importBo): an extobj of every VM that maps it. */
  readonly external: boolean;
  /** The VM this BO is private to, or null. */
  readonly privateTo: DeviceVm | null;
  /** @internal What the device side is made of. */
  readonly parts: DeviceBoParts;
  // The dma-buf a CPU mapping goes through, where the memory is not mapped otherwise (kernel drivers).
  #cpuDmaBuf: DmaBuf | null = null;
  readonly #exports = new Set<DmaBuf>();
  #released = false;

  /** @internal Made by Gpu.createBo and Gpu.importBo. */
  constructor(init: DeviceBoInit) {
    super(init.parts.buffer.size, init.resv === undefined ? { name: init.name } : { name: init.name, resv: init.resv });
    this.gpu = init.gpu;
    this.parts = init.parts;
    this.buffer = init.parts.buffer;
    this.external = init.external;
    this.privateTo = init.privateTo;
  }

  /** Size in bytes, as the device rounded it (the model GEM's size too). */
  get size(): bigint {
    return this.buffer.size;
  }

  /** The GEM handle on the Gpu's DRM file (the buffer number on the software device). */
  get handle(): number {
    return this.buffer.handle;
  }

  /** True once the device side is gone: the model GEM was freed, or the Gpu closed. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Maps the whole BO for the CPU (the same memory VAs show). Unmapped by `mapping.unmap()`, or when the BO's
   * device side goes. Refused for a closed BO, a released one, and where describe().boCpuMapping says so.
   */
  map(): Mapping {
    this.#checkUsable('map');
    const memory = this.parts.memory;
    if (memory !== null) return memory.source.map();
    if (!this.parts.cpuMappable) {
      throw new GpuError('ERR_GPU_UNSUPPORTED', `map: BO '${this.name}' is private to its VM in the kernel, which cannot export it, so it has no dma-buf to map`);
    }
    this.#cpuDmaBuf ??= this.buffer.exportDmaBuf();
    return this.#cpuDmaBuf.map();
  }

  /**
   * Shares the BO as a dma-buf (a memfd on the software device); another Gpu imports it with importBo. The
   * Gpu closes it with the BO's device side if the caller has not. Refused for VM-private BOs.
   */
  exportDmaBuf(): DmaBuf {
    this.#checkUsable('exportDmaBuf');
    if (this.privateTo !== null) throw new GpuError('ERR_GPU_PRIVATE_BO', `exportDmaBuf: BO '${this.name}' is private to VM '${this.privateTo.name}'`);
    for (const dmaBuf of this.#exports) if (dmaBuf.closed) this.#exports.delete(dmaBuf);
    const dmaBuf = this.buffer.exportDmaBuf();
    this.#exports.add(dmaBuf);
    return dmaBuf;
  }

  /**
   * drm_gpuvm_bo_gem_evict (see Bo.evict), in the device too where its driver has an ioctl for it
   * (vgpuvm's BO_EVICT), so the kernel's evict lists follow the model's; the device is told first, so a
   * refusal there changes nothing here.
   */
  override evict(guard: LockGuard<ResvLock>, evict = true): void {
    guard.assertHolds(this.resv, `drm_gpuvm_bo_gem_evict of BO '${this.name}'`);
    if (!this.#released) this.parts.evict?.(evict);
    super.evict(guard, evict);
  }

  /** Drops the creator's reference; the device side goes once no VM maps the BO any more. */
  override close(): void {
    super.close();
    this.gpu.reap();
  }

  /** @internal Releases the device side: dma-bufs, mappings, memory and handle, in that order. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      for (const dmaBuf of this.#exports) dmaBuf.close();
      this.#cpuDmaBuf?.close();
    } finally {
      this.#exports.clear();
      this.#cpuDmaBuf = null;
      this.parts.release();
    }
  }

  #checkUsable(what: string): void {
    if (this.#released) throw new GpuError('ERR_GPU_CLOSED', `${what}: BO '${this.name}' was released (its Gpu closed)`);
    this.checkOpen(what);
  }
}
