// SPDX-License-Identifier: MIT
// Issues a driver-private ioctl on a device through the addon's generic marshaller (native/driver_bind.cc),
// which patches the user pointers, checks the driver name and runs the ioctl. Outputs land in buffers[0].
// Every part of the call is read once and checked here, before the addon sees any of it, so a getter on
// the call object runs before any native state is touched and cannot change what was checked.
import { invalidArgType, outOfRange } from '../arg-errors.js';
import { native } from '../native.js';
import { DrmDevice } from './drm-device.js';
import { callNative, notSupported } from './errors.js';
import { isInstance } from './resource.js';

/**
 * A user pointer inside one of the call's buffers: native writes the address of `buffers[target]` as a u64
 * at `offset` in `buffers[buffer]`. Buffer 0 is the ioctl argument; the slot is zero in the encoded bytes.
 */
export interface DriverIoctlPointer {
  readonly buffer: number;
  readonly offset: number;
  readonly target: number;
}

/** One driver-private ioctl as bytes: `buffers[0]` is the argument and receives the kernel's outputs. */
export interface DriverIoctlCall {
  /** The driver name DRM_IOCTL_VERSION must report before this private ioctl may be issued. */
  readonly driver: string;
  /** The ioctl's C macro name, as native/driver_ioctl_table.cc lists it. */
  readonly name: string;
  /** The request number `_IOC(dir, 'd', nr, size)`. */
  readonly request: number;
  /** The argument bytes first, then each user array the argument points to. */
  readonly buffers: readonly Uint8Array[];
  /** Where the argument and the arrays point at other buffers. */
  readonly pointers: readonly DriverIoctlPointer[];
}

/** One entry of the addon's table of the driver ioctls it may issue. */
export interface DriverIoctlRule {
  readonly driver: string;
  readonly name: string;
  readonly request: number;
  /** The argument struct's C name. */
  readonly struct: string;
}

/**
 * Runs `call` on `device` and returns the ioctl's result. Refuses a call built for another driver before
 * any ioctl (code ERR_DRM_NOT_SUPPORTED here, ERR_DRM_WRONG_DRIVER from native as the second wall); a
 * failed ioctl throws a DrmError with errno, syscall 'ioctl', the ioctl name and the device path.
 */
export function issueDriverIoctl(device: DrmDevice, call: DriverIoctlCall): number {
  if (!isInstance(device, DrmDevice)) throw invalidArgType('device', 'DrmDevice', device);
  const checked = checkCall(call);
  device.assertUsable();
  if (device.driver !== checked.driver) throw notSupported(checked.name, device.driver, `it is private to ${checked.driver}`);
  return callNative(device.callSite, () =>
    native().driverIoctl(device.fd, checked.driver, checked.name, checked.request, checked.buffers, checked.pointers));
}

/** The (driver, name, request, struct) of every driver ioctl the addon may issue. */
export function driverIoctlRules(): DriverIoctlRule[] {
  return native().driverIoctlRules();
}

interface CheckedCall {
  driver: string;
  name: string;
  request: number;
  buffers: Uint8Array[];
  pointers: Uint32Array;
}

function checkCall(call: unknown): CheckedCall {
  if (typeof call !== 'object' || call === null) throw invalidArgType('call', 'object', call);
  const { driver, name, request, buffers, pointers } = call as Record<keyof DriverIoctlCall, unknown>;
  if (typeof driver !== 'string') throw invalidArgType('call.driver', 'string', driver);
  if (typeof name !== 'string') throw invalidArgType('call.name', 'string', name);
  if (typeof request !== 'number') throw invalidArgType('call.request', 'number', request);
  if (!Number.isInteger(request) || request < 0 || request > 0xffffffff) throw outOfRange('call.request', 'an integer in [0, 2^32-1]', request);
  if (!Array.isArray(buffers)) throw invalidArgType('call.buffers', 'Array', buffers);
  // Copied element by element into a fresh array: a hostile array (a getter on an index, a Proxy) is read
  // once, here, and native sees only what was checked.
  const bufferList: Uint8Array[] = [];
  for (let i = 0; i < buffers.length; i++) {
    const buffer: unknown = buffers[i];
    if (!(buffer instanceof Uint8Array)) throw invalidArgType(`call.buffers[${i}]`, 'Uint8Array', buffer);
    bufferList.push(buffer);
  }
  if (!Array.isArray(pointers)) throw invalidArgType('call.pointers', 'Array', pointers);
  const slots = new Uint32Array(pointers.length * 3);
  for (let i = 0; i < pointers.length; i++) {
    const pointer: unknown = pointers[i];
    if (typeof pointer !== 'object' || pointer === null) throw invalidArgType(`call.pointers[${i}]`, 'object', pointer);
    const { buffer, offset, target } = pointer as Record<keyof DriverIoctlPointer, unknown>;
    slots[3 * i] = u32(buffer, `call.pointers[${i}].buffer`);
    slots[3 * i + 1] = u32(offset, `call.pointers[${i}].offset`);
    slots[3 * i + 2] = u32(target, `call.pointers[${i}].target`);
  }
  return { driver, name, request, buffers: bufferList, pointers: slots };
}

function u32(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw outOfRange(name, 'an integer in [0, 2^32-1]', value);
  return value;
}
