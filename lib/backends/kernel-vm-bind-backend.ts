// SPDX-License-Identifier: MIT
// The GpuVmBackend that makes a VM's op lists real through the driver's own bind ioctl. One request's op
// list becomes exactly one ioctl, so a commit either happens or not: a request the driver's rules refuse
// throws before any ioctl, and a failed ioctl leaves the kernel's VM as it was. Where binds complete
// asynchronously (xe, msm), the bind signals a syncobj of this backend and commit resolves when it has.
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOp, GpuVaOps } from '../gpuvm/ops.js';
import type { DrmDevice } from '../drm/drm-device.js';
import { Syncobj } from '../drm/syncobj.js';
import { amdgpuGemVaRequest, type AmdgpuVm } from './amdgpu.js';
import type { GpuVmBackend } from './backend.js';
import { BindRefusedError } from './bind-refused-error.js';
import type { SyncobjPoint } from './bind-syncs.js';
import { type IoctlCall, issueIoctlCall } from './ioctl-call.js';
import { msmVmBind, type MsmVm } from './msm.js';
import { nouveauVmBind, type NouveauVm } from './nouveau.js';
import { panthorVmBind, type PanthorVm } from './panthor.js';
import { xeVmBind, type XeVm } from './xe.js';

/** How one driver turns a request's op list into its bind ioctl. */
export interface KernelBinder {
  /** DRM driver name the device must report. */
  readonly driver: string;
  /** Whether the bind ioctl returns before the page tables are updated (an out-syncobj tells when). */
  readonly completesAsync: boolean;
  /** The ioctls for `ops`, signalling `done` when given; refuses with BindRefusedError before any ioctl. */
  calls(ops: Iterable<GpuVaOp>, done: SyncobjPoint | null): IoctlCall[];
}

/** The binder for an xe VM: asynchronous binds on the VM's bind queue. */
export function xeBinder(vm: XeVm): KernelBinder {
  return { driver: 'xe', completesAsync: true, calls: (ops, done) => xeVmBind(vm, ops, done === null ? {} : { signals: [done] }) };
}

/** The binder for a nouveau VM: synchronous binds (no syncs). */
export function nouveauBinder(vm: NouveauVm): KernelBinder {
  return { driver: 'nouveau', completesAsync: false, calls: (ops) => nouveauVmBind(vm, ops) };
}

/** The binder for a panthor VM: synchronous binds (no ASYNC flag). */
export function panthorBinder(vm: PanthorVm): KernelBinder {
  return { driver: 'panthor', completesAsync: false, calls: (ops) => panthorVmBind(vm, ops) };
}

/** The binder for an msm VM: asynchronous binds on a VM_BIND submitqueue. */
export function msmBinder(vm: MsmVm): KernelBinder {
  return { driver: 'msm', completesAsync: true, calls: (ops, done) => msmVmBind(vm, ops, done === null ? {} : { signals: [done] }) };
}

/** The binder for amdgpu GEM_VA: one GEM_VA per request (MAP, REPLACE or CLEAR). */
export function amdgpuBinder(vm: AmdgpuVm): KernelBinder {
  return {
    driver: 'amdgpu', completesAsync: false,
    calls: (ops) => {
      const call = amdgpuGemVaRequest(vm, ops);
      return call === null ? [] : [call];
    },
  };
}

/** Commits op lists with the driver's bind ioctl on `device`. */
export class KernelVmBindBackend implements GpuVmBackend {
  readonly name: string;
  readonly #device: DrmDevice;
  readonly #binder: KernelBinder;
  #done: Syncobj | null = null;

  /** Refuses a device whose driver is not the binder's (code ERR_BIND_UNSUPPORTED). */
  constructor(device: DrmDevice, binder: KernelBinder) {
    if (device.driver !== binder.driver) {
      throw new BindRefusedError(binder.driver, 'ERR_BIND_UNSUPPORTED', `the device ${device.path} is driven by ${device.driver}`);
    }
    this.name = `${binder.driver}-vm-bind`;
    this.#device = device;
    this.#binder = binder;
  }

  async commit(_vm: GpuVm, ops: GpuVaOps): Promise<void> {
    const done = this.#binder.completesAsync ? (this.#done ??= Syncobj.create(this.#device)) : null;
    const calls = this.#binder.calls(ops, done === null ? null : { handle: done.handle });
    if (calls.length > 1) {
      throw new BindRefusedError(this.#binder.driver, 'ERR_BIND_UNSUPPORTED', `the op list needs ${calls.length} ioctls, which cannot be committed atomically; commit one request at a time`);
    }
    const call = calls[0];
    if (call === undefined) return;
    issueIoctlCall(this.#device, call);
    if (done === null) return;
    // Snapshot the fence this bind installed before anything else can replace it, then wait off-thread.
    const fence = done.exportSyncFile();
    try {
      await fence.wait();
    } finally {
      fence.close();
    }
  }

  /** Destroys the completion syncobj, if one was made. */
  close(): void {
    this.#done?.close();
    this.#done = null;
  }
}
