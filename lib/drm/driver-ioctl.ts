// SPDX-License-Identifier: MIT
// Issues an IoctlCall on a device through the addon's generic marshaller (native/driver_bind.cc), which
// patches the user pointers, checks the driver name and runs the ioctl. Outputs land in call.buffers[0].
import type { DrmDevice } from '../drm/drm-device.js';
import { callNative, notSupported } from '../drm/errors.js';
import { native } from '../native.js';
import type { IoctlCall } from './ioctl-call.js';

interface DriverBindNative {
  driverIoctl(fd: number, driver: string, name: string, request: number, buffers: Uint8Array[], pointers: Uint32Array): number;
}

function driverBind(): DriverBindNative {
  const binding = native() as Partial<DriverBindNative>;
  if (typeof binding.driverIoctl !== 'function') {
    const err = new Error('the loaded addon has no driverIoctl (it predates native/driver_bind.cc): rebuild it with `npx node-gyp rebuild`');
    (err as NodeJS.ErrnoException).code = 'ERR_DRM_NATIVE_LOAD';
    throw err;
  }
  return binding as DriverBindNative;
}

/**
 * Runs `call` on `device` and returns the ioctl's result. Refuses a call built for another driver before
 * any ioctl (code ERR_DRM_NOT_SUPPORTED here, ERR_DRM_WRONG_DRIVER from native as the second wall); a
 * failed ioctl throws a DrmError with errno, syscall 'ioctl', the ioctl name and the device path.
 */
export function issueIoctlCall(device: DrmDevice, call: IoctlCall): number {
  device.assertUsable();
  if (device.driver !== call.driver) throw notSupported(call.ioctl.name, device.driver, `it is private to ${call.driver}`);
  const pointers = Uint32Array.from(call.pointers.flatMap((p) => [p.buffer, p.offset, p.target]));
  return callNative(device.callSite, () =>
    driverBind().driverIoctl(device.fd, call.driver, call.ioctl.name, call.request, [...call.buffers], pointers));
}
