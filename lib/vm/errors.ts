// SPDX-License-Identifier: MIT
// Errors of the transactional VM layer that are neither lock errors (lib/locks) nor model errors (lib/gpuvm).
import { LockError } from '../locks/errors.js';
import type { VmBoRef } from './vm-bo-ref.js';

/** Codes of {@link VmError}. */
export type VmErrorCode =
  /** close() while mappings, pairs, references or zombies remain (the kernel WARNs in drm_gpuvm_fini). */
  | 'ERR_VM_BUSY'
  /** A call on a closed VM. */
  | 'ERR_VM_CLOSED'
  /** A VmBo reference used after it was put. */
  | 'ERR_VM_REF_RELEASED'
  /** validate() on a VM created without a validate callback (the kernel's -EOPNOTSUPP). */
  | 'ERR_VM_NO_VALIDATE_CALLBACK'
  /** A BO used by VMs of different modes: all VMs of one GEM must agree on immediate mode. */
  | 'ERR_VM_BO_MODE'
  /** A BO used by a VM after its creator closed it: a pair may keep it alive, but it takes no new use. */
  | 'ERR_VM_BO_CLOSED'
  /** read()/write() on a VM whose backend gives the CPU no view of the VA space (only the VA window does). */
  | 'ERR_VM_NO_VA_ACCESS'
  /** A bind gave up waiting for its fences after its timeoutMs (the kernel's -ETIME); nothing changed. */
  | 'ERR_VM_FENCE_TIMEOUT'
  /** A bind's in-fence signalled with an error (its `cause`): the bind did not run; nothing changed. */
  | 'ERR_VM_FENCE_ERROR';

/** The errno the kernel returns where it refuses the same thing (symbolic, as in errno.h). */
export type VmKernelError = 'EBUSY' | 'EOPNOTSUPP' | 'ETIME';

/** What some VmErrors carry besides their code and message. */
export interface VmErrorDetails {
  /** The kernel's errno for the same refusal. */
  kernelError?: VmKernelError;
  /** close(): the references still held, each naming where it was obtained. */
  references?: readonly VmBoRef[];
  /** The error behind this one (ERR_VM_FENCE_ERROR: the in-fence's). */
  cause?: Error;
}

/** A refused VM-layer call; nothing was changed. */
export class VmError extends Error {
  /** Which rule was broken. */
  readonly code: VmErrorCode;
  /** The errno the kernel returns in the same case, when it has one (ERR_VM_BUSY: EBUSY). */
  readonly kernelError: VmKernelError | undefined;
  /** For ERR_VM_BUSY: the references still held, each with {@link VmBoRef.obtainedAt}. */
  readonly references: readonly VmBoRef[];

  constructor(code: VmErrorCode, message: string, details: VmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VmError';
    this.code = code;
    this.kernelError = details.kernelError;
    this.references = details.references ?? [];
  }
}

/**
 * A drop of a pair's last reference that its policy refused (no guard, the guard of another lock or task,
 * a lock the put needs not held): a LockError with the code that says which. Nothing changed, and the
 * reference is not lost: it is {@link ref}, and it stays in `vm.refusedDrops()` until a later `put` (with
 * the proof the policy asks for) completes it.
 */
export class DropRefusedError extends LockError {
  /** The reference whose drop was refused; still held, and completable. */
  readonly ref: VmBoRef;

  constructor(refusal: LockError, ref: VmBoRef) {
    super(refusal.code, `${refusal.message}. The reference is kept: it is this error's .ref and in vm.refusedDrops(); ` +
      'put it again holding what the policy asks for', refusal.lockName);
    this.name = 'DropRefusedError';
    this.ref = ref;
  }
}
