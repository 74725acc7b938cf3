// SPDX-License-Identifier: MIT
// The GpuVmBackend that makes a VM's op lists real through the driver's own bind ioctl. One request's op
// list becomes exactly one ioctl, so a commit either happens or not: a request the driver's rules refuse
// throws before any ioctl, and a failed ioctl leaves the kernel's VM as it was. Where binds complete
// asynchronously (xe, msm; panthor and nouveau once a bind carries syncs), the bind signals a syncobj of
// this backend and commit resolves when it has.
//
// Where the bind ioctl takes syncobjs, a bind's fences become the driver's syncs: each in-fence the kernel
// can see (one read through a sync_file) is imported into a syncobj the bind waits on, and an out-fence that
// is a Syncobj of this device is one the bind signals, so the kernel signals it when the page tables are
// updated. The VM has waited for the in-fences before the transaction (so an aborted or timed-out wait
// changes nothing); the kernel then finds them signalled, as it finds a dependency that completed first.
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOp, GpuVaOps } from '../gpuvm/ops.js';
import type { DrmDevice } from '../drm/drm-device.js';
import { DrmError } from '../drm/errors.js';
import { SyncFile } from '../drm/sync-file.js';
import { Syncobj } from '../drm/syncobj.js';
import type { Fence } from '../fence/fence.js';
import { amdgpuGemVaRequest, type AmdgpuVm } from './amdgpu.js';
import type { CommitFences, GpuVmBackend } from './backend.js';
import { BindRefusedError } from './bind-refused-error.js';
import type { BindSyncs, SyncobjPoint } from './bind-syncs.js';
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
  /** Whether the bind ioctl takes in- and out-syncobjs; a bind that carries any completes asynchronously. */
  readonly syncobjs: boolean;
  /** The ioctls for `ops`, waiting and signalling `syncs` (only where `syncobjs`); refuses with BindRefusedError before any ioctl. */
  calls(ops: Iterable<GpuVaOp>, syncs: BindSyncs): IoctlCall[];
}

/** The binder for an xe VM: asynchronous binds on the VM's bind queue, with drm_xe_sync in- and out-syncs. */
export function xeBinder(vm: XeVm): KernelBinder {
  return { driver: 'xe', completesAsync: true, syncobjs: true, calls: (ops, syncs) => xeVmBind(vm, ops, syncs) };
}

/** The binder for a nouveau VM: synchronous binds, or RUN_ASYNC with drm_nouveau_sync waits and signals. */
export function nouveauBinder(vm: NouveauVm): KernelBinder {
  return { driver: 'nouveau', completesAsync: false, syncobjs: true, calls: (ops, syncs) => nouveauVmBind(vm, ops, syncs) };
}

/** The binder for a panthor VM: synchronous binds, or ASYNC with drm_panthor_sync_op waits and signals. */
export function panthorBinder(vm: PanthorVm): KernelBinder {
  return { driver: 'panthor', completesAsync: false, syncobjs: true, calls: (ops, syncs) => panthorVmBind(vm, ops, syncs) };
}

/** The binder for an msm VM: asynchronous binds on a VM_BIND submitqueue, with drm_msm_syncobj arrays. */
export function msmBinder(vm: MsmVm): KernelBinder {
  return { driver: 'msm', completesAsync: true, syncobjs: true, calls: (ops, syncs) => msmVmBind(vm, ops, syncs) };
}

/** The binder for amdgpu GEM_VA: one GEM_VA per request (MAP, REPLACE or CLEAR), without syncobjs. */
export function amdgpuBinder(vm: AmdgpuVm): KernelBinder {
  return {
    driver: 'amdgpu', completesAsync: false, syncobjs: false,
    calls: (ops, syncs) => {
      const call = amdgpuGemVaRequest(vm, ops, syncs);
      return call === null ? [] : [call];
    },
  };
}

/** The sync_file a fence is read through (SyncFileFence, VgemJob), while it is open; null for any other fence. */
function syncFileOf(fence: Fence): SyncFile | null {
  const file = (fence as { readonly syncFile?: unknown }).syncFile;
  return file instanceof SyncFile && !file.closed ? file : null;
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

  async commit(_vm: GpuVm, ops: GpuVaOps, fences?: CommitFences | null): Promise<void> {
    // Nothing to bind (and so nothing to carry syncs): the driver needs no ioctl.
    if (ops.length === 0) return;
    const binder = this.#binder;
    const inFiles = binder.syncobjs ? (fences?.waitFor ?? []).map(syncFileOf).filter((f) => f !== null) : [];
    const out = fences?.outFence;
    const outSyncobj = binder.syncobjs && out instanceof Syncobj && out.device === this.#device && !out.closed ? out : null;
    const hasSyncs = inFiles.length > 0 || outSyncobj !== null;
    const done = binder.completesAsync || hasSyncs ? (this.#done ??= Syncobj.create(this.#device)) : null;
    // The kernel takes each in-syncobj's fence when the ioctl runs: the syncobjs are not needed after it.
    const waits: Syncobj[] = [];
    let fence: SyncFile | null = null;
    try {
      for (const file of inFiles) {
        const syncobj = Syncobj.create(this.#device);
        waits.push(syncobj);
        syncobj.importSyncFile(file);
      }
      const signals: SyncobjPoint[] = [];
      if (outSyncobj !== null) signals.push({ handle: outSyncobj.handle });
      if (done !== null) signals.push({ handle: done.handle });
      const calls = binder.calls(ops, { waits: waits.map((w) => ({ handle: w.handle })), signals });
      if (calls.length > 1) {
        throw new BindRefusedError(binder.driver, 'ERR_BIND_UNSUPPORTED', `the op list needs ${calls.length} ioctls, which cannot be committed atomically; commit one request at a time`);
      }
      issueIoctlCall(this.#device, calls[0]!);
      // Snapshot the fence this bind installed before anything else can replace it, then wait off-thread.
      if (done !== null) fence = done.exportSyncFile();
    } finally {
      for (const w of waits) w.close();
    }
    if (fence === null) return;
    try {
      await fence.wait();
      // A bind the kernel ran as a job and failed (its VM went away first) applied nothing: the commit fails.
      const failed = fence.info().fences.find((f) => f.status === 'error');
      if (failed !== undefined) throw new DrmError(-failed.error, 'fence', { path: `the ${binder.driver} bind's out-fence (${failed.driver} ${failed.timeline})` });
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
