// SPDX-License-Identifier: MIT
// A driver ioctl as plain data: the request number, the argument bytes, and the user arrays it points to.
// Native code marshals it generically: it writes the address of each array into the pointer slots listed in
// `pointers`, issues the ioctl after checking the driver name, and leaves outputs in the same bytes. It only
// issues ioctls of native/driver_ioctl_table.cc, and only when every user pointer of the argument is one of
// `pointers` (or zero with a zero count) and every count times stride fits the array it points to.
import { invalidArgType } from '../arg-errors.js';
import type { DrmDevice } from '../drm/drm-device.js';
import { type DriverIoctlCall, type DriverIoctlPointer, issueDriverIoctl } from '../drm/driver-ioctl.js';
import type { UapiStruct } from './uapi-struct.js';

/** `_IOC` direction bits as the kernel's asm-generic/ioctl.h defines them. */
export const IOC_WRITE = 1;
/** `_IOC_READ`: the kernel writes the argument back. */
export const IOC_READ = 2;
/** The DRM ioctl type byte, `'d'`. */
export const DRM_IOCTL_BASE = 0x64;
/** First driver-private ioctl number; driver ids are relative to it. */
export const DRM_COMMAND_BASE = 0x40;

/** A driver-private ioctl: its C macro name, kernel number (`nr`), direction and argument struct. */
export interface DriverIoctl {
  /** The C macro name, e.g. `DRM_IOCTL_XE_VM_BIND`, for messages. */
  readonly name: string;
  /** The ioctl number: DRM_COMMAND_BASE plus the driver's id. */
  readonly nr: number;
  /** `IOC_WRITE`, `IOC_READ` or both: which way the argument struct is copied. */
  readonly dir: number;
  /** The argument struct's layout; its size is part of the request number. */
  readonly struct: UapiStruct;
}

/** The request number `_IOC(dir, 'd', nr, sizeof(struct))` (x86-64 and arm64 share this encoding). */
export function ioctlRequest(ioctl: DriverIoctl): number {
  return ((ioctl.dir << 30) | (ioctl.struct.size << 16) | (DRM_IOCTL_BASE << 8) | ioctl.nr) >>> 0;
}

/** Declares a driver-private ioctl from its id relative to DRM_COMMAND_BASE, as the uAPI headers do. */
export function driverIoctl(name: string, id: number, dir: number, struct: UapiStruct): DriverIoctl {
  return { name, nr: DRM_COMMAND_BASE + id, dir, struct };
}

/** A user pointer inside one of the call's buffers (see DriverIoctlPointer in lib/drm). */
export type PointerSlot = DriverIoctlPointer;

/**
 * One ioctl, ready for native marshalling: lib/drm's call with the ioctl's declaration in place of its name
 * (`request` is `ioctlRequest(ioctl)`). `buffers[0]` is the argument and receives the kernel's outputs.
 */
export interface IoctlCall extends Omit<DriverIoctlCall, 'name'> {
  /** The ioctl to issue. */
  readonly ioctl: DriverIoctl;
}

/**
 * Builds an IoctlCall. `arrays` are extra buffers (index 1, 2, ... in order) and `pointers` say where each one
 * is referenced; an empty array is not referenced at all (its pointer stays 0, as the kernel expects with a
 * zero count).
 */
export function ioctlCall(driver: string, ioctl: DriverIoctl, arg: Uint8Array, arrays: readonly Uint8Array[] = [], pointers: readonly PointerSlot[] = []): IoctlCall {
  if (arg.byteLength !== ioctl.struct.size) throw new Error(`${ioctl.name}: argument is ${arg.byteLength} bytes, the struct is ${ioctl.struct.size}`);
  return { driver, ioctl, request: ioctlRequest(ioctl), buffers: [arg, ...arrays], pointers };
}

/**
 * Runs `call` on `device` (lib/drm's issueDriverIoctl) and returns the ioctl's result: ERR_DRM_NOT_SUPPORTED
 * for a call built for another driver, a DrmError for a failed ioctl.
 */
export function issueIoctlCall(device: DrmDevice, call: IoctlCall): number {
  if (typeof call !== 'object' || call === null) throw invalidArgType('call', 'object', call);
  const ioctl: unknown = call.ioctl;
  if (typeof ioctl !== 'object' || ioctl === null) throw invalidArgType('call.ioctl', 'object', ioctl);
  const { driver, request, buffers, pointers } = call;
  return issueDriverIoctl(device, { driver, name: (ioctl as DriverIoctl).name, request, buffers, pointers });
}
