// SPDX-License-Identifier: MIT
// What each kernel backend takes from its driver's uAPI header, listed so the ABI test can compile every
// struct, field offset, ioctl number and constant against the real header and compare.
import type { DriverIoctl } from './ioctl-call.js';
import type { UapiStruct } from './uapi-struct.js';

/** The uAPI facts a backend relies on, for one driver. */
export interface DriverUapi {
  /** DRM driver name, as DRM_IOCTL_VERSION reports it. */
  readonly driver: string;
  /** The header that defines them, relative to the include directory (`drm/xe_drm.h`). */
  readonly header: string;
  readonly structs: readonly UapiStruct[];
  readonly ioctls: readonly DriverIoctl[];
  /** Macro or enumerator name to value, for every op code and flag the encoders write. */
  readonly constants: Readonly<Record<string, number>>;
}
