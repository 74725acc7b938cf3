// SPDX-License-Identifier: MIT
// Public entry point: exports only, one line per module (each driver namespace with its doc comment).
export { toU64, U64_MAX, type U64Like } from './u64.js';
export { GpuVm, type GpuVmOptions, type GpuVmMapRequest, type SmMapSteps, type SmUnmapSteps, type AppliedOps } from './gpuvm/gpuvm.js';
export { GpuVa, GPUVA_INVALIDATED, GPUVA_SPARSE, GPUVA_USERBITS, type GpuVaInit } from './gpuvm/gpuva.js';
export { GemObject } from './gpuvm/gem.js';
export { VmBo, type VmBoState } from './gpuvm/vm-bo.js';
export { OpMap, OpUnmap, OpRemap, OpPrefetch, GpuVaOps, OpMapped, OpRemapped, OpUnmapped, remapToUnmapRange, type GpuVaOp } from './gpuvm/ops.js';
export { GpuVmRequestError, GpuVmStateError, type GpuVmRequestReason, type GpuVmRequestCode, type GpuVmStateCode } from './gpuvm/errors.js';
export { noLockHooks, type GpuVmLockHooks, type GpuVmLockSite } from './gpuvm/lock-hooks.js';
export { parseTrace, TraceParser, replayTrace, formatOp, TraceReplayer, TraceSyntaxError, type TraceCommand, type TraceOpCounts } from './trace/trace.js';
export { generateTrace, formatTraceCommand, TRACE_GENERATOR_VERSION, type GeneratedTraceCommand, type TraceGeneratorParams, type TraceProfile } from './trace/trace-generator.js';
export * from './drm/index.js';
export { VaHeap, VaHeapError, type VaHeapAllocOptions, type VaHeapDirection, type VaHole, type VaHeapErrorCode } from './gpuvm/va-heap.js';
export * from './locks/index.js';
export * from './vm/index.js';
export { type CommitFences, type GpuVmBackend } from './backends/backend.js';
export { TrackOnlyBackend, TrackOnlyDivergenceError, type TrackedSpan } from './backends/track-only.js';
export { backendFor, describeBackend, KERNEL_BACKEND_DRIVERS, type KernelBackend } from './backends/kernel-backend-catalogue.js';
export { KernelVmBindBackend, xeBinder, nouveauBinder, panthorBinder, msmBinder, amdgpuBinder, type KernelBinder } from './backends/kernel-vm-bind-backend.js';
export { BindRefusedError, type BindRefusedCode } from './backends/bind-refused-error.js';
export { issueIoctlCall } from './backends/ioctl-call.js';
export { readField, type UapiStruct } from './backends/uapi-struct.js';
export type { IoctlCall, PointerSlot, DriverIoctl } from './backends/ioctl-call.js';
export type { SyncobjPoint, BindSyncs } from './backends/bind-syncs.js';
export type { VaRules } from './backends/bind-requests.js';
/** Intel xe (xe_drm.h): VM create/destroy, GEM create and the VM_BIND encoder. */
export * as xe from './backends/xe.js';
/** nouveau (nouveau_drm.h): VM_INIT, GEM_NEW and the VM_BIND encoder (one VM per DRM file). */
export * as nouveau from './backends/nouveau.js';
/** panthor (panthor_drm.h, Arm Mali CSF): VM create/destroy, BO create and the VM_BIND encoder. */
export * as panthor from './backends/panthor.js';
/** msm (msm_drm.h, Qualcomm Adreno): VM_BIND mode, bind queues, GEM_NEW and the VM_BIND encoder. */
export * as msm from './backends/msm.js';
/** amdgpu (amdgpu_drm.h): GEM create and the GEM_VA encoder (amdgpu has no drm_gpuvm VM_BIND). */
export * as amdgpu from './backends/amdgpu.js';
/** vgpuvm, this package's test kernel module (kmod/vgpuvm): the kernel's own drm_gpuvm behind a VM_BIND and a tree query. */
export * as vgpuvm from './backends/vgpuvm.js';
export { renderVaMapSvg, vaMapElementBound, VaMapInputError, type VaMapInput, type VaMapMapping, type VaMapOptions } from './va-map/va-map-svg.js';
export { vaMapInputFromGpuVm, parseVaDump, isVaDump, isVaDumpLine, VaDumpReader, VaDumpSyntaxError } from './va-map/va-map-input.js';
export { runInVm, type VmRunOptions, type VmRunResult } from './qemu/run-vm.js';
export type { StepLog } from './qemu/step-log.js';
export { VmRunnerError, type VmRunnerErrorCode } from './qemu/errors.js';
export { VaWindowBackend, type VaWindowBackendOptions, type WindowOps } from './backends/va-window-backend.js';
export { VaWindowError, type VaWindowErrorCode } from './backends/va-window-error.js';
export { planWindowMemory, type WindowMemoryKind, type WindowMemoryPlan } from './backends/va-window-memory.js';
export * from './fence/index.js';
export * from './gpu/index.js';
