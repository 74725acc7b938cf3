// SPDX-License-Identifier: MIT
// openDevice: a named DRM node, or the first usable one, or the software device where there is none.
import type { Device } from './device.js';
import { listDevices } from './discovery.js';
import { DrmDevice } from './drm-device.js';
import { SoftwareDevice } from './software-device.js';

/**
 * Opens the DRM node at `path`. Without a path: the first DRM node (card nodes first) that opens and
 * allocates a one-page buffer, else a SoftwareDevice. `device.kind` says which one it is.
 */
export function openDevice(path: string): DrmDevice;
export function openDevice(): Device;
export function openDevice(path?: string): Device {
  if (path !== undefined) return DrmDevice.open(path);
  for (const node of listDevices()) {
    let device: DrmDevice | undefined;
    try {
      device = DrmDevice.open(node.path);
      device.createBuffer(1).close();
      return device;
    } catch {
      // Not usable by this process (permissions, a render node that cannot allocate): try the next one.
      device?.close();
    }
  }
  return new SoftwareDevice();
}
