// SPDX-License-Identifier: MIT
// The transactional GPU VM: requests, VmBo lifetime policies, extobj/evict lists, exec helpers.
export { Vm, type VmOptions, type VmMapRequest, type ExecLockOptions } from './vm.js';
export type { AddFenceOptions, BindFenceOptions, BindOutFence } from './fences.js';
export { Bo, type BoOptions, GPUVA_LOCK_CLASS } from './bo.js';
export { VmBoRef } from './vm-bo-ref.js';
export { VmBoList } from './vm-bo-list.js';
export { VM_BO_POLICIES, type VmBoPolicy } from './policy.js';
export { DropRefusedError, VmError, type VmErrorCode, type VmErrorDetails, type VmKernelError } from './errors.js';
export { vmInvariantViolations } from './invariants.js';
