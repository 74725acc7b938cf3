// SPDX-License-Identifier: MIT
// DRM_IOCTL_SET_VERSION (struct drm_set_version, include/uapi/drm/drm.h): the master of a card node asks
// for a DRM interface version and a driver version. The kernel refuses a version it does not have with
// EINVAL, and in every case writes back the ones it has. Asking for interface 1.1 or later also gives the
// master its bus id, which GET_UNIQUE then reports (libdrm's drmGetBusid relies on that).
import { invalidArgType, outOfRange } from '../arg-errors.js';

/**
 * The four C ints of struct drm_set_version. In a request a major of -1 asks nothing for that pair
 * (the kernel then ignores its minor); in an answer they are the kernel's DRM interface version and the
 * driver's major.minor.
 */
export interface DrmSetVersion {
  /** drm_di_major: the DRM interface's major version (the kernel has 1), or -1. */
  interfaceMajor: number;
  /** drm_di_minor: the DRM interface's minor version (at most 4 today). */
  interfaceMinor: number;
  /** drm_dd_major: the driver's major version (DRM_IOCTL_VERSION's `major`), or -1. */
  driverMajor: number;
  /** drm_dd_minor: the driver's minor version (at most DRM_IOCTL_VERSION's `minor`). */
  driverMinor: number;
}

const FIELDS = ['interfaceMajor', 'interfaceMinor', 'driverMajor', 'driverMinor'] as const;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/**
 * @internal Checks a DrmSetVersion request: an object whose four fields are integers in [-2^31, 2^31-1]
 * (C ints). Returns a copy, so a getter cannot change a value between the check and the ioctl.
 * Throws ERR_INVALID_ARG_TYPE (not an object, or a field not a number) or ERR_OUT_OF_RANGE (a field
 * not such an integer).
 */
export function toSetVersionRequest(request: unknown): DrmSetVersion {
  if (typeof request !== 'object' || request === null) throw invalidArgType('request', 'object', request);
  const checked = {} as DrmSetVersion;
  for (const field of FIELDS) {
    const value: unknown = (request as Record<string, unknown>)[field];
    if (typeof value !== 'number') throw invalidArgType(field, 'number', value);
    if (!Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
      throw outOfRange(field, 'an integer in [-2^31, 2^31-1]', value);
    }
    checked[field] = value;
  }
  return checked;
}
