// SPDX-License-Identifier: MIT
// Errors of the device layer, shaped like Node's own: a failed syscall becomes a DrmError with `code`
// ('EACCES'), a negative `errno`, `syscall` ('ioctl', 'open', 'mmap'), `path`, the ioctl's name, and
// advice where a fix is known. Refusals before any syscall carry an ERR_* code.
import { getSystemErrorMap } from 'node:util';
import { adviceFor } from './advice.js';

/** An error from a failed system call on a DRM node, dma-buf, sync_file or memfd. */
export class DrmError extends Error {
  /** The errno name, e.g. 'EACCES'. */
  readonly code: string;
  /** The negative errno, as in Node's errors. */
  readonly errno: number;
  /** The failed syscall: 'ioctl', 'open', 'mmap', 'poll'... */
  readonly syscall: string;
  /** The device or file path, when known. */
  readonly path: string | undefined;
  /** The ioctl request name, e.g. 'DRM_IOCTL_MODE_CREATE_DUMB'. */
  readonly ioctl: string | undefined;
  /** What to do about it, when known. */
  readonly advice: string | undefined;

  /** `errno` is the positive errno value the kernel returned. */
  constructor(errno: number, syscall: string, details: { path?: string; ioctl?: string; advice?: string } = {}) {
    const [code, description] = errnoName(errno);
    const what = details.ioctl !== undefined ? `${syscall} ${details.ioctl}` : syscall;
    const where = details.path !== undefined ? ` '${details.path}'` : '';
    const advice = details.advice !== undefined ? ` (${details.advice})` : '';
    super(`${code}: ${description}, ${what}${where}${advice}`);
    this.name = 'DrmError';
    this.code = code;
    this.errno = -errno;
    this.syscall = syscall;
    this.path = details.path;
    this.ioctl = details.ioctl;
    this.advice = details.advice;
  }
}

// Linux gives ENOTSUP and EOPNOTSUPP the same number (95) and Node names it ENOTSUP ("operation not
// supported on socket"); DRM and dma-buf document EOPNOTSUPP, so that is the name used here.
const EOPNOTSUPP = 95;

function errnoName(errno: number): [string, string] {
  if (errno === EOPNOTSUPP) return ['EOPNOTSUPP', 'operation not supported'];
  return getSystemErrorMap().get(-errno) ?? [`E${errno}`, `unknown error ${errno}`];
}

/** Where a native call happens, for the error's `path` and advice. */
export interface CallSite {
  path?: string;
  /** 'card' | 'render' for DRM nodes; used to pick advice. */
  nodeType?: string;
  /** The driver name, when known; used to pick advice. */
  driver?: string;
}

interface NativeSyscallError {
  errno: number;
  syscall: string;
  ioctl?: string;
}

function isNativeSyscallError(error: unknown): error is NativeSyscallError & Error {
  return error instanceof Error && typeof (error as Partial<NativeSyscallError>).errno === 'number' &&
    typeof (error as Partial<NativeSyscallError>).syscall === 'string' && !(error instanceof DrmError);
}

/** Turns a failed-syscall error from the addon into a DrmError; any other error is returned as is. */
export function toDrmError(error: unknown, site: CallSite): unknown {
  if (!isNativeSyscallError(error)) return error;
  const advice = adviceFor(error.errno, error.syscall, error.ioctl, site);
  return new DrmError(error.errno, error.syscall, {
    ...(site.path !== undefined ? { path: site.path } : {}),
    ...(error.ioctl !== undefined ? { ioctl: error.ioctl } : {}),
    ...(advice !== undefined ? { advice } : {}),
  });
}

/** Runs `call`, rethrowing a native syscall failure as a DrmError for `site`. */
export function callNative<T>(site: CallSite, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toDrmError(error, site);
  }
}

function coded<E extends Error>(error: E, code: string): E {
  (error as E & { code: string }).code = code;
  return error;
}

/** Use of a closed Device, Buffer, DmaBuf, SyncFile or Mapping (code ERR_USE_AFTER_CLOSE). */
export function useAfterClose(what: string): Error {
  return coded(new Error(`${what} is closed`), 'ERR_USE_AFTER_CLOSE');
}

/** A feature the driver does not have (code ERR_DRM_NOT_SUPPORTED). */
export function notSupported(feature: string, driver: string, why?: string): Error {
  return coded(new Error(`${feature} is not supported by ${driver}${why !== undefined ? `: ${why}` : ''}`), 'ERR_DRM_NOT_SUPPORTED');
}

/** A mapping refused because the kernel would hand out the wrong memory (code ERR_DRM_UNSAFE_MAPPING). */
export function unsafeMapping(why: string): Error {
  return coded(new Error(why), 'ERR_DRM_UNSAFE_MAPPING');
}

// A wait ended by its AbortSignal: the fence layer's AbortError, the one every wait of the package rejects with.
export { abortError } from '../fence/wait-options.js';
