// SPDX-License-Identifier: MIT
// Misuses of fences and reservations, each refused before anything changed, with a stable code.

/** The codes a {@link FenceError} carries. */
export type FenceErrorCode =
  /**
   * dma_resv_add_fence without a slot reserved since the reservation was locked (the kernel's BUG_ON;
   * reserve with reserveFences after locking, since unlocking drops what was reserved).
   */
  | 'ERR_FENCE_NO_SLOT'
  /** A software fence signalled twice (dma_fence_signal on a signalled fence is -EINVAL). */
  | 'ERR_FENCE_SIGNALED';

/** An error from the fence layer; `code` says which rule was broken. */
export class FenceError extends Error {
  /** Which rule was broken. */
  readonly code: FenceErrorCode;

  constructor(code: FenceErrorCode, message: string) {
    super(message);
    this.name = 'FenceError';
    this.code = code;
  }
}
