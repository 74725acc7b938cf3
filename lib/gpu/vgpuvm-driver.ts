// SPDX-License-Identifier: MIT
// vgpuvm, this project's test module: VM_CREATE in the VM's VmBo lifetime design (the policy), BO_CREATE
// (VM-private where asked), binds the kernel's own drm_gpuvm runs, VM_DESTROY, vm.read / vm.write through
// VM_RW, which walks the kernel's tree to the BO pages as the GPU would, jobs (EXEC on a queue of the VM,
// made at its first job) and eviction (BO_EVICT, VM_VALIDATE).
import type { DrmDevice } from '../drm/drm-device.js';
import { DrmError } from '../drm/errors.js';
import { pageSize } from '../drm/page-size.js';
import { type GpuVaAccess, vaAccessRange } from '../backends/backend.js';
import { issueIoctlCall } from '../backends/ioctl-call.js';
import {
  decodeVgpuvmJob, encodeVgpuvmCommands, readVgpuvmField, VGPUVM, vgpuvmBinder, vgpuvmBoCreate, vgpuvmBoEvict, vgpuvmExec, vgpuvmJobQuery, vgpuvmQueueCreate,
  vgpuvmVmCreate, vgpuvmVmDestroy, vgpuvmVmRw, vgpuvmVmValidate,
} from '../backends/vgpuvm.js';
import { Syncobj } from '../drm/syncobj.js';
import { SyncFileFence } from '../drm/sync-file-fence.js';
import { invalidArgType } from '../arg-errors.js';
import { U64_MAX } from '../u64.js';
import { GpuError } from './errors.js';
import { ExecJob, type GpuCommand, type GpuJobFault } from './exec-job.js';
import type { VmJobs } from './driver-support.js';
import type { KernelDriver } from './kernel-support.js';

const MAX_RW = BigInt(VGPUVM.DRM_VGPUVM_RW_MAX_SIZE);

// One VM_RW; an address no BO backs is ERR_GPU_VA_UNMAPPED with that address (nothing moved).
function vmRw(device: DrmDevice, vmId: number, addr: bigint, data: Uint8Array, write: boolean): void {
  const call = vgpuvmVmRw(vmId, addr, data, write);
  try {
    issueIoctlCall(device, call);
  } catch (error) {
    const fault = error instanceof DrmError && error.code === 'EFAULT' ? readVgpuvmField(call, 'fault_addr') : U64_MAX;
    if (fault === U64_MAX) throw error;
    throw new GpuError('ERR_GPU_VA_UNMAPPED', `vm.${write ? 'write' : 'read'}: no mapping of VM ${vmId} covers GPU address 0x${fault.toString(16)} (the kernel's VA tree)`,
      { address: fault, cause: error });
  }
}

// Splits [addr, addr + length) into VM_RW-sized pieces.
function* pieces(addr: bigint, length: bigint): Generator<{ at: bigint; from: number; size: number }> {
  for (let done = 0n; done < length; done += MAX_RW) {
    const size = length - done < MAX_RW ? length - done : MAX_RW;
    yield { at: addr + done, from: Number(done), size: Number(size) };
  }
}

/** vm.read / vm.write of VM `vmId` through the kernel: zeros where sparse, dropped writes there. */
function vgpuvmVaAccess(device: DrmDevice, vmId: number): GpuVaAccess {
  return {
    read(addr, length) {
      const { start, end } = vaAccessRange(addr, length);
      const out = new Uint8Array(Number(end - start));
      for (const p of pieces(start, end - start)) vmRw(device, vmId, p.at, out.subarray(p.from, p.from + p.size), false);
      return out;
    },
    write(addr, bytes) {
      if (!(bytes instanceof Uint8Array)) throw invalidArgType('bytes', 'Uint8Array', bytes);
      const { start, end } = vaAccessRange(addr, bytes.byteLength);
      // All or nothing: a write of several pieces first reads them all, so a hole in a later piece refuses
      // it before the first byte is written (no bind can come between: the caller holds the VA range lock).
      if (end - start > MAX_RW) for (const p of pieces(start, end - start)) vmRw(device, vmId, p.at, new Uint8Array(p.size), false);
      for (const p of pieces(start, end - start)) vmRw(device, vmId, p.at, bytes.subarray(p.from, p.from + p.size), true);
    },
  };
}

/**
 * The queue of VM `vmId` (a drm_sched scheduler in the module), made when first asked for; VM_DESTROY ends
 * it with the VM. Its jobs and its queued binds run in submission order.
 */
function vgpuvmQueue(device: DrmDevice, vmId: number): () => number {
  let queueId: number | null = null;
  return () => {
    if (queueId === null) {
      const create = vgpuvmQueueCreate(vmId);
      issueIoctlCall(device, create);
      queueId = Number(readVgpuvmField(create, 'queue_id'));
    }
    return queueId;
  };
}

/**
 * Jobs on the VM's queue: EXEC with the jobs of `after` as in-syncs and a syncobj of the job's own as its
 * out-sync, whose sync_file is the job's fence.
 */
function vgpuvmJobs(device: DrmDevice, queueOf: () => number): VmJobs {
  const submit = (commands: readonly GpuCommand[], after: readonly ExecJob[], name: string): ExecJob => {
    const queue = queueOf();
    const syncobj = Syncobj.create(device);
    try {
      const call = vgpuvmExec(commands, { queueId: queue, inSyncs: after.map((job) => ({ handle: job.syncobj.handle })), outSyncs: [{ handle: syncobj.handle }] });
      issueIoctlCall(device, call);
      const jobId = readVgpuvmField(call, 'job_id');
      const fault = (): GpuJobFault | null => {
        const query = vgpuvmJobQuery(queue, jobId);
        try {
          issueIoctlCall(device, query);
        } catch (error) {
          // Only the last DRM_VGPUVM_JOB_HISTORY jobs of a queue are remembered, and none once the VM is gone.
          if (error instanceof DrmError && error.code === 'ENOENT') return null;
          throw error;
        }
        const job = decodeVgpuvmJob(query);
        return job.faultCmd === null || job.faultAddr === null ? null : { command: job.faultCmd, address: job.faultAddr };
      };
      return new ExecJob({ name, syncobj, fence: new SyncFileFence(syncobj.exportSyncFile(), name), fault });
    } catch (error) {
      syncobj.close();
      throw error;
    }
  };
  return { check: (commands) => void encodeVgpuvmCommands(commands), submit };
}

/** The vgpuvm driver's side of a Gpu. */
export const VGPUVM_DRIVER: KernelDriver = {
  name: 'vgpuvm',
  createVm(device, request, handleOf) {
    const create = vgpuvmVmCreate({ start: request.start, range: request.range, design: request.policy });
    issueIoctlCall(device, create);
    const vmId = Number(readVgpuvmField(create, 'vm_id'));
    const queue = vgpuvmQueue(device, vmId);
    return {
      vmId,
      // A bind with syncs is a job on the queue, which the module takes on immediate-mode VMs only.
      binder: vgpuvmBinder(request.immediate ? { vmId, handleOf, queue } : { vmId, handleOf }),
      vaAccess: vgpuvmVaAccess(device, vmId),
      jobs: vgpuvmJobs(device, queue),
      validate: () => void issueIoctlCall(device, vgpuvmVmValidate(vmId)),
      destroy: () => void issueIoctlCall(device, vgpuvmVmDestroy(vmId)),
    };
  },
  createBo(device, size, privateVm) {
    const create = vgpuvmBoCreate(size, privateVm?.vmId ?? 0);
    issueIoctlCall(device, create);
    return { handle: Number(readVgpuvmField(create, 'handle')), size: readVgpuvmField(create, 'size') };
  },
  evictBo(device, handle, evict) {
    issueIoctlCall(device, vgpuvmBoEvict(handle, evict));
  },
  kernelPrivateBos: true,
  oneVmPerFile: false,
  vmFirst: false,
  get pageSizes() {
    return [pageSize()];
  },
  sparse: { supported: true, how: 'sparse MAP ops (the kernel\'s drm_gpuvm keeps them as BO-less VAs)' },
  cpuVaAccess: { supported: true, how: 'vm.read / vm.write through VM_RW: the kernel walks its drm_gpuvm tree to the BO pages, zeros where sparse' },
  exec: {
    supported: true,
    how: 'vm.exec: EXEC on a drm_sched queue of the VM (fill, copy and checksum commands through its GPU addresses); the kernel locks the VM and its extobjs ' +
      '(drm_gpuvm_exec_lock), validates evicted BOs and adds the job\'s fence to their reservations, and a command that touches an unmapped or sparse address faults the job',
  },
  bindSyncobjs: {
    supported: true,
    how: 'on immediate-mode VMs (gpuva-lock, deferred), a bind whose in-fences the kernel can see (sync_files, vm.exec jobs) or whose outFence is a Syncobj ' +
      'of this device is a job on the VM\'s queue, waiting on in-syncobjs and signalling out-syncobjs; a staged (resv) VM binds synchronously and the VM ' +
      'waits for the in-fences and signals the out-fence itself',
  },
  refused: [
    { what: 'more than 4096 bind requests in one op list', why: 'DRM_VGPUVM_BIND_MAX_OPS' },
  ],
};
