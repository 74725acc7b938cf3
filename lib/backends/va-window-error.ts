// SPDX-License-Identifier: MIT
// The errors of the VA window backend. A refusal is thrown before the window changes; an access error
// before any byte is read or written; ERR_VA_WINDOW_BROKEN only when a rollback itself failed.

/** Why the VA window backend refused; the `code` property of the error. */
export type VaWindowErrorCode =
  /** read/write touched an address no mapping covers (or the kernel-reserved node). */
  | 'ERR_VA_WINDOW_UNMAPPED'
  /** A mapping with memory is not page-aligned (address, size or BO offset): mmap cannot place it. */
  | 'ERR_VA_WINDOW_ALIGNMENT'
  /** A mapping with memory lies outside the window's address range. */
  | 'ERR_VA_WINDOW_RANGE'
  /** A mapped GEM object has no memory in this backend (allocate or adopt it first). */
  | 'ERR_VA_WINDOW_NO_MEMORY'
  /** The device cannot map this BO range correctly (vgem without udmabuf: only BO offset 0 is safe). */
  | 'ERR_VA_WINDOW_UNSAFE_MAPPING'
  /** The backend already serves another GpuVm. */
  | 'ERR_VA_WINDOW_WRONG_VM'
  /** The backend was closed. */
  | 'ERR_VA_WINDOW_CLOSED'
  /** A commit failed and so did undoing it: the window no longer matches the tree; the backend refuses all. */
  | 'ERR_VA_WINDOW_BROKEN';

/** Thrown by the VA window backend; `address` is the first offending GPU address when there is one. */
export class VaWindowError extends Error {
  /** Always 'VaWindowError'. */
  override readonly name = 'VaWindowError';
  /** Which rule the request broke. */
  readonly code: VaWindowErrorCode;
  /** The GPU virtual address the error is about, when it is about one. */
  readonly address: bigint | undefined;

  constructor(code: VaWindowErrorCode, message: string, options: { address?: bigint; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.address = options.address;
  }
}
