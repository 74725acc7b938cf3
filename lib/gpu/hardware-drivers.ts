// SPDX-License-Identifier: MIT
// The kernel drivers a Gpu drives through their VM_BIND backend, by DRM driver name: vgpuvm (run in this
// project's test VM) and the five hardware drivers, whose VM create/destroy, BO create and bind encoders
// are ABI-checked against the kernel headers but have not run on hardware here. What a driver only tells
// through ioctls this package does not issue (xe's DEVICE_QUERY, msm's GET_PARAM, amdgpu's INFO) is not
// read: the VM's VA rules are the range createVm asks for (the kernel refuses addresses past its own),
// BOs live in system memory, and the refusals say what that leaves out.
import { pageSize } from '../drm/page-size.js';
import type { DrmDevice } from '../drm/drm-device.js';
import { AMDGPU, amdgpuGemCreate, AMDGPU_GEM_CREATE } from '../backends/amdgpu.js';
import type { VaRules } from '../backends/bind-requests.js';
import { amdgpuBinder, msmBinder, nouveauBinder, panthorBinder, xeBinder } from '../backends/kernel-vm-bind-backend.js';
import { issueIoctlCall, type IoctlCall } from '../backends/ioctl-call.js';
import { MSM, msmBindQueueNew, msmEnableVmBind, msmGemNew, msmQueueClose, MSM_GEM_NEW, MSM_SUBMITQUEUE } from '../backends/msm.js';
import { NOUVEAU, nouveauGemNew, nouveauVmInit, NOUVEAU_GEM_INFO } from '../backends/nouveau.js';
import { panthorBoCreate, panthorVmCreate, panthorVmDestroy, PANTHOR_BO_CREATE, PANTHOR_VM_CREATE } from '../backends/panthor.js';
import { readField, type UapiStruct } from '../backends/uapi-struct.js';
import { XE, xeGemCreate, xeVmCreate, xeVmDestroy, XE_GEM_CREATE, XE_VM_CREATE } from '../backends/xe.js';
import type { KernelDriver } from './kernel-support.js';
import type { VmRequest } from './driver-support.js';
import { VGPUVM_DRIVER } from './vgpuvm-driver.js';

const PAGE_4K = 4096n;
// nouveau's kernel-managed window sits right after the VM's range: 4 GiB for the kernel's own mappings.
const NOUVEAU_KERNEL_WINDOW = 1n << 32n;

function issued(device: DrmDevice, call: IoctlCall): IoctlCall {
  issueIoctlCall(device, call);
  return call;
}

function field(call: IoctlCall, struct: UapiStruct, name: string): bigint {
  return readField(struct, call.buffers[0]!, name);
}

function rulesOf(request: VmRequest, page: bigint): VaRules {
  return { pageSize: page, vaStart: request.start, vaEnd: request.start + request.range };
}

function roundUp(size: bigint, page: bigint): bigint {
  return ((size + page - 1n) / page) * page;
}

const XE_DRIVER: KernelDriver = {
  name: 'xe',
  createVm(device, request, handleOf) {
    const vmId = Number(field(issued(device, xeVmCreate()), XE_VM_CREATE, 'vm_id'));
    // PAT index 0 with write-back BOs; platforms whose index 0 is not coherent with WB refuse the bind.
    return { vmId, binder: xeBinder({ vmId, patIndex: 0, rules: rulesOf(request, PAGE_4K), handleOf }), destroy: () => void issueIoctlCall(device, xeVmDestroy(vmId)) };
  },
  createBo(device, size, privateVm) {
    const bytes = roundUp(size, PAGE_4K);
    const call = issued(device, xeGemCreate({ size: bytes, placement: 1, cpuCaching: XE.DRM_XE_GEM_CPU_CACHING_WB, vmId: privateVm?.vmId ?? 0 }));
    return { handle: Number(field(call, XE_GEM_CREATE, 'handle')), size: bytes };
  },
  kernelPrivateBos: true,
  oneVmPerFile: false,
  vmFirst: false,
  pageSizes: [4096],
  sparse: { supported: true, how: 'NULL binds (DRM_XE_VM_BIND_FLAG_NULL)' },
  refused: [
    { what: 'BOs in VRAM', why: 'placement is system memory (region instance 0): DEVICE_QUERY is not issued by this package' },
    { what: 'a PAT index other than 0', why: 'the platform PAT table is not queried; binds use index 0 with write-back CPU caching' },
  ],
};

const PANTHOR_DRIVER: KernelDriver = {
  name: 'panthor',
  createVm(device, request, handleOf) {
    const vmId = Number(field(issued(device, panthorVmCreate(request.start + request.range)), PANTHOR_VM_CREATE, 'id'));
    return { vmId, binder: panthorBinder({ vmId, rules: rulesOf(request, PAGE_4K), handleOf }), destroy: () => void issueIoctlCall(device, panthorVmDestroy(vmId)) };
  },
  createBo(device, size, privateVm) {
    const call = issued(device, panthorBoCreate({ size, exclusiveVmId: privateVm?.vmId ?? 0 }));
    return { handle: Number(field(call, PANTHOR_BO_CREATE, 'handle')), size: field(call, PANTHOR_BO_CREATE, 'size') };
  },
  kernelPrivateBos: true,
  oneVmPerFile: false,
  vmFirst: false,
  pageSizes: [4096],
  sparse: { supported: true, how: 'MAP_SPARSE (newer kernels; older ones answer EINVAL)' },
  refused: [{ what: 'a VM whose range does not start inside the user VA range', why: 'VM_CREATE is asked for user_va_range = start + range' }],
};

const NOUVEAU_DRIVER: KernelDriver = {
  name: 'nouveau',
  createVm(device, request, handleOf) {
    const kernel = { addr: request.start + request.range, size: NOUVEAU_KERNEL_WINDOW };
    issueIoctlCall(device, nouveauVmInit(kernel));
    // The file's VM lives as long as the file: nothing to destroy before the Gpu closes it.
    return { vmId: null, binder: nouveauBinder({ rules: rulesOf(request, PAGE_4K), kernel, handleOf }), destroy: () => {} };
  },
  createBo(device, size, privateVm) {
    const call = issued(device, nouveauGemNew({ size, domain: NOUVEAU.NOUVEAU_GEM_DOMAIN_GART, vmPrivate: privateVm !== null }));
    // drm_nouveau_gem_new starts with its drm_nouveau_gem_info, where the kernel writes the handle and size.
    return { handle: Number(field(call, NOUVEAU_GEM_INFO, 'handle')), size: field(call, NOUVEAU_GEM_INFO, 'size') };
  },
  kernelPrivateBos: true,
  oneVmPerFile: true,
  vmFirst: true,
  pageSizes: [4096],
  sparse: { supported: false, how: 'refused: nouveau sparse regions lie beneath mappings and do not split like GPUVM VAs' },
  refused: [
    { what: 'a second VM on one Gpu', why: 'nouveau has one VM per DRM file (VM_INIT)' },
    { what: 'BOs before the VM', why: 'VM_INIT must come before any BO' },
    { what: 'the 4 GiB after the VM\'s range', why: 'it is the kernel-managed window given to VM_INIT' },
  ],
};

const MSM_DRIVER: KernelDriver = {
  name: 'msm',
  createVm(device, request, handleOf) {
    issueIoctlCall(device, msmEnableVmBind());
    const queueId = Number(field(issued(device, msmBindQueueNew()), MSM_SUBMITQUEUE, 'id'));
    return {
      vmId: null,
      binder: msmBinder({ queueId, rules: rulesOf(request, BigInt(pageSize())), hasPrr: false, handleOf }),
      destroy: () => void issueIoctlCall(device, msmQueueClose(queueId)),
    };
  },
  createBo(device, size, privateVm) {
    const call = issued(device, msmGemNew(size, MSM.MSM_BO_WC, privateVm !== null));
    return { handle: Number(field(call, MSM_GEM_NEW, 'handle')), size: roundUp(size, BigInt(pageSize())) };
  },
  kernelPrivateBos: true,
  oneVmPerFile: true,
  vmFirst: true,
  get pageSizes() {
    return [pageSize()];
  },
  sparse: { supported: false, how: 'refused: MSM_PARAM_HAS_PRR is not queried (GET_PARAM is not issued by this package), so NULL mappings are not sent' },
  refused: [
    { what: 'a second VM on one Gpu', why: 'msm has one VM_BIND VM per DRM file' },
    { what: 'BOs before the VM', why: 'SET_PARAM(EN_VM_BIND) must come before any BO' },
  ],
};

const AMDGPU_DRIVER: KernelDriver = {
  name: 'amdgpu',
  createVm(_device, request, handleOf) {
    // The file's VM is made at open and lives as long as the file.
    return { vmId: null, binder: amdgpuBinder({ rules: rulesOf(request, PAGE_4K), handleOf }), destroy: () => {} };
  },
  createBo(device, size, privateVm) {
    const bytes = roundUp(size, PAGE_4K);
    const call = issued(device, amdgpuGemCreate({ size: bytes, alignment: PAGE_4K, domains: AMDGPU.AMDGPU_GEM_DOMAIN_GTT, vmPrivate: privateVm !== null }));
    return { handle: Number(field(call, AMDGPU_GEM_CREATE, 'out.handle')), size: bytes };
  },
  kernelPrivateBos: true,
  oneVmPerFile: true,
  vmFirst: false,
  pageSizes: [4096],
  sparse: { supported: true, how: 'PRT mappings' },
  refused: [
    { what: 'a second VM on one Gpu', why: 'amdgpu has one VM per DRM file' },
    { what: 'an op list of more than one request', why: 'GEM_VA takes one request per ioctl, so several cannot be committed atomically' },
    { what: 'BOs in VRAM', why: 'BOs are made in GTT: AMDGPU_INFO is not issued by this package' },
  ],
};

/** Kernel drivers by name. */
export const KERNEL_DRIVERS: Readonly<Record<string, KernelDriver>> = {
  vgpuvm: VGPUVM_DRIVER,
  xe: XE_DRIVER,
  panthor: PANTHOR_DRIVER,
  nouveau: NOUVEAU_DRIVER,
  msm: MSM_DRIVER,
  amdgpu: AMDGPU_DRIVER,
};
