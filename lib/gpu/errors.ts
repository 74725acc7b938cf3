// SPDX-License-Identifier: MIT
// Errors of the GPU object graph (lib/gpu) that no lower layer raises: what a device, VM or BO of one Gpu
// refuses because of where it belongs.

/** Codes of {@link GpuError}. */
export type GpuErrorCode =
  /** A call on a closed Gpu, or on a VM or BO whose Gpu is closed. */
  | 'ERR_GPU_CLOSED'
  /** A BO of another Gpu (or a plain model Bo, which owns no memory) given to this one's VM. */
  | 'ERR_GPU_FOREIGN_BO'
  /** A VM-private BO used outside its VM: mapped in another VM, or exported. */
  | 'ERR_GPU_PRIVATE_BO'
  /** The device's driver has no backend here, or the backend cannot do what was asked; says why. */
  | 'ERR_GPU_UNSUPPORTED'
  /** close() while something the user holds still needs it (a request in flight, a reference held). */
  | 'ERR_GPU_BUSY'
  /** vm.read / vm.write of a GPU address no mapping covers (the kernel's VA tree said so); `address` names it. */
  | 'ERR_GPU_VA_UNMAPPED'
  /** A job of vm.exec stopped at a command that touched an address no BO backs; `address` and `command` name them. */
  | 'ERR_GPU_JOB_FAULT';

/** A refused call of lib/gpu; nothing was changed unless the message says what close() released anyway. */
export class GpuError extends Error {
  /** Which rule was broken. */
  readonly code: GpuErrorCode;
  /** The GPU virtual address the error is about, when it is about one. */
  readonly address: bigint | undefined;
  /** The index of the command a job faulted at (ERR_GPU_JOB_FAULT). */
  readonly command: number | undefined;

  constructor(code: GpuErrorCode, message: string, options?: ErrorOptions & { address?: bigint; command?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GpuError';
    this.code = code;
    this.address = options?.address;
    this.command = options?.command;
  }
}
