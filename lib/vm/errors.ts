// SPDX-License-Identifier: MIT
// Errors of the transactional VM layer that are neither lock errors (lib/locks) nor model errors (lib/gpuvm).

/** Codes of {@link VmError}. */
export type VmErrorCode =
  /** close() while mappings, pairs, references or zombies remain (the kernel WARNs in drm_gpuvm_fini). */
  | 'EBUSY'
  /** A call on a closed VM. */
  | 'ERR_VM_CLOSED'
  /** A VmBo reference used after it was put. */
  | 'ERR_VM_REF_RELEASED'
  /** validate() on a VM created without a validate callback (the kernel's -EOPNOTSUPP). */
  | 'EOPNOTSUPP'
  /** A BO used by VMs of different modes: all VMs of one GEM must agree on immediate mode. */
  | 'ERR_VM_BO_MODE'
  /** read()/write() on a VM whose backend gives the CPU no view of the VA space (only the VA window does). */
  | 'ERR_VM_NO_VA_ACCESS';

/** A refused VM-layer call; nothing was changed. */
export class VmError extends Error {
  /** Which rule was broken. */
  readonly code: VmErrorCode;

  constructor(code: VmErrorCode, message: string) {
    super(message);
    this.name = 'VmError';
    this.code = code;
  }
}
