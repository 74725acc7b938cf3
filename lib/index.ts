// SPDX-License-Identifier: MIT
// Public entry point: exports only, one line per module.
export { toU64, U64_MAX, type U64Like } from './u64.js';
export { GpuVm, type GpuVmOptions, type MapRequest, type SmMapSteps, type SmUnmapSteps, type AppliedOps } from './gpuvm/gpuvm.js';
export { GpuVa, GPUVA_INVALIDATED, GPUVA_SPARSE, GPUVA_USERBITS, type GpuVaInit } from './gpuvm/gpuva.js';
export { GemObject } from './gpuvm/gem.js';
export { VmBo, type VmBoState } from './gpuvm/vm-bo.js';
export { OpMap, OpUnmap, OpRemap, OpPrefetch, GpuVaOps, OpMapped, OpRemapped, OpUnmapped, remapToUnmapRange, type GpuVaOp } from './gpuvm/ops.js';
export { GpuVmRequestError, GpuVmStateError, type GpuVmRequestReason, type GpuVmRequestCode, type GpuVmStateCode } from './gpuvm/errors.js';
export { noLockHooks, type GpuVmLockHooks, type GpuVmLockSite } from './gpuvm/lock-hooks.js';
export { parseTrace, replayTrace, formatOp, TraceReplayer, TraceSyntaxError, type TraceCommand, type TraceOpCounts } from './gpuvm/trace.js';
export * from './drm/index.js';
export { VaHeap, VaHeapError, type VaHeapAllocOptions, type VaHeapDirection, type VaHole, type VaHeapErrorCode } from './gpuvm/va-heap.js';
export * from './locks/index.js';
export * from './vm/index.js';
export { type GpuVmBackend } from './backends/backend.js';
export { TrackOnlyBackend, TrackOnlyDivergenceError, type TrackedSpan } from './backends/track-only.js';
