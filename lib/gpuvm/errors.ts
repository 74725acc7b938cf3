// SPDX-License-Identifier: MIT
// Typed errors of the GPUVM model. Request errors use the words of the trace spec
// (docs/trace-format.md) so the replayer prints exactly what the API throws.

/** Why a map, unmap or lookup request was refused, in the order the checks run. */
export type GpuVmRequestReason = 'zero_range' | 'overflow' | 'out_of_range' | 'reserved' | 'bo_bounds';

const requestCodes = {
  zero_range: 'ERR_GPUVM_ZERO_RANGE',
  overflow: 'ERR_GPUVM_OVERFLOW',
  out_of_range: 'ERR_GPUVM_OUT_OF_RANGE',
  reserved: 'ERR_GPUVM_RESERVED',
  bo_bounds: 'ERR_GPUVM_BO_BOUNDS',
} as const;

/** Node-style code of a refused request, e.g. `ERR_GPUVM_RESERVED` for reason `reserved`. */
export type GpuVmRequestCode = (typeof requestCodes)[GpuVmRequestReason];

/**
 * A request the kernel would answer with -EINVAL (or, for `bo_bounds`, one a driver must refuse before
 * calling GPUVM). Thrown before anything changes.
 */
export class GpuVmRequestError extends RangeError {
  /** Node-style error code. */
  readonly code: GpuVmRequestCode;
  /** The trace-spec word for the reason. */
  readonly reason: GpuVmRequestReason;

  constructor(reason: GpuVmRequestReason, message: string) {
    super(message);
    this.name = 'GpuVmRequestError';
    this.reason = reason;
    this.code = requestCodes[reason];
  }
}

/** Codes of {@link GpuVmStateError}. */
export type GpuVmStateCode =
  /** The op list was generated against a tree that has changed since (or was applied already). */
  | 'ERR_GPUVM_STALE_OPS'
  /** A single op no longer matches the tree: its VA is gone, or its range is no longer free. */
  | 'ERR_GPUVM_STALE_OP'
  /** The object belongs to another GpuVm. */
  | 'ERR_GPUVM_WRONG_VM'
  /** drm_gpuva_insert's -EEXIST: the VA overlaps one already in the tree. */
  | 'ERR_GPUVM_VA_EXISTS'
  /** The VA is not in a tree (remove, link of a removed VA) or already is in one (insert). */
  | 'ERR_GPUVM_VA_STATE'
  /** The kernel-reserved node may not be removed or used as a mapping. */
  | 'ERR_GPUVM_KERNEL_NODE'
  /** A VA/VmBo link mismatch: other GEM, already linked, not linked. */
  | 'ERR_GPUVM_LINK'
  /** A call that the kernel WARNs about in this VM's mode (immediate vs staged). */
  | 'ERR_GPUVM_MODE'
  /** A reference count misuse: a put without a reference, a use of a freed VmBo. */
  | 'ERR_GPUVM_REFCOUNT'
  /** A split/merge step callback returned without the token that applying its op yields. */
  | 'ERR_GPUVM_OP_NOT_APPLIED';

/** Misuse of the model's state machine (stale ops, refcounts, mode rules). Thrown before anything changes. */
export class GpuVmStateError extends Error {
  /** Node-style error code. */
  readonly code: GpuVmStateCode;

  constructor(code: GpuVmStateCode, message: string) {
    super(message);
    this.name = 'GpuVmStateError';
    this.code = code;
  }
}
