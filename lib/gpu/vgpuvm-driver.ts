// SPDX-License-Identifier: MIT
// vgpuvm, this project's test module: VM_CREATE in the VM's VmBo lifetime design (the policy), BO_CREATE
// (VM-private where asked), binds the kernel's own drm_gpuvm runs, VM_DESTROY.
import { pageSize } from '../drm/page-size.js';
import { issueIoctlCall } from '../backends/ioctl-call.js';
import { readVgpuvmField, vgpuvmBinder, vgpuvmBoCreate, vgpuvmVmCreate, vgpuvmVmDestroy } from '../backends/vgpuvm.js';
import type { KernelDriver } from './kernel-support.js';

/** The vgpuvm driver's side of a Gpu. */
export const VGPUVM_DRIVER: KernelDriver = {
  name: 'vgpuvm',
  createVm(device, request, handleOf) {
    const create = vgpuvmVmCreate({ start: request.start, range: request.range, design: request.policy });
    issueIoctlCall(device, create);
    const vmId = Number(readVgpuvmField(create, 'vm_id'));
    return { vmId, binder: vgpuvmBinder({ vmId, handleOf }), destroy: () => void issueIoctlCall(device, vgpuvmVmDestroy(vmId)) };
  },
  createBo(device, size, privateVm) {
    const create = vgpuvmBoCreate(size, privateVm?.vmId ?? 0);
    issueIoctlCall(device, create);
    return { handle: Number(readVgpuvmField(create, 'handle')), size: readVgpuvmField(create, 'size') };
  },
  kernelPrivateBos: true,
  oneVmPerFile: false,
  vmFirst: false,
  get pageSizes() {
    return [pageSize()];
  },
  sparse: { supported: true, how: 'sparse MAP ops (the kernel\'s drm_gpuvm keeps them as BO-less VAs)' },
  refused: [
    { what: 'more than 4096 bind requests in one op list', why: 'DRM_VGPUVM_BIND_MAX_OPS' },
  ],
};
