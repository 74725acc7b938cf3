// SPDX-License-Identifier: MIT
// The error a kernel backend throws when it refuses a request before any ioctl: the kernel would reject it
// (alignment, range) or cannot express it (a feature the driver's uAPI lacks). Nothing has been issued.

/** Why a request was refused; the `code` property of the error. */
export type BindRefusedCode =
  /** An address, size or BO offset is not a multiple of the driver's page size. */
  | 'ERR_BIND_ALIGNMENT'
  /** A range is empty, overflows, or leaves the VA space the driver manages. */
  | 'ERR_BIND_RANGE'
  /** The driver's uAPI cannot do this (sparse mappings on nouveau, syncobjs on amdgpu GEM_VA, ...). */
  | 'ERR_BIND_UNSUPPORTED';

/** Thrown by a kernel backend before any ioctl; says which driver refused and why. */
export class BindRefusedError extends Error {
  /** Always 'BindRefusedError'. */
  override readonly name = 'BindRefusedError';
  /** Which rule refused the request. */
  readonly code: BindRefusedCode;
  /** The DRM driver name (as DRM_IOCTL_VERSION reports it) whose rules refused the request. */
  readonly driver: string;

  constructor(driver: string, code: BindRefusedCode, message: string) {
    super(`${driver}: ${message}`);
    this.code = code;
    this.driver = driver;
  }
}
