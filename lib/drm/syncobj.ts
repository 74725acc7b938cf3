// SPDX-License-Identifier: MIT
// DRM sync objects: a handle holding a fence, for explicit synchronisation (drm.h SYNCOBJ_*). Only
// drivers with DRIVER_SYNCOBJ have them; elsewhere (vgem, vkms) creation is refused up front with
// ERR_DRM_NOT_SUPPORTED, from GET_CAP(DRM_CAP_SYNCOBJ).
import { native } from '../native.js';
import { toU64, type U64Like } from '../u64.js';
import { DrmCap } from './caps.js';
import { DrmDevice } from './drm-device.js';
import { assertOptionsObject, invalidArgType, invalidArgValue } from '../arg-errors.js';
import { callNative, notSupported } from './errors.js';
import { isInstance, Resource } from './resource.js';
import { SyncFile } from './sync-file.js';

/** Options of Syncobj.create. */
export interface SyncobjOptions {
  /** Start signalled. Default false. */
  signaled?: boolean;
}

/** A DRM sync object of one device. */
export class Syncobj extends Resource {
  /** The device the syncobj belongs to; the handle means nothing on another. */
  readonly device: DrmDevice;
  /** The syncobj handle on that device's DRM file. */
  readonly handle: number;

  private constructor(device: DrmDevice, handle: number) {
    const fd = device.fd;
    super(() => {
      if (!device.closed) native().syncobjDestroy(fd, handle);
    });
    this.device = device;
    this.handle = handle;
  }

  /** Creates a sync object; ERR_DRM_NOT_SUPPORTED where the driver has none. */
  static create(device: DrmDevice, options: SyncobjOptions = {}): Syncobj {
    if (!isInstance(device, DrmDevice)) throw invalidArgType('device', 'DrmDevice', device);
    assertOptionsObject(options);
    const signaled = options.signaled ?? false;
    if (typeof signaled !== 'boolean') throw invalidArgType('signaled', 'boolean', signaled);
    if (device.getCap(DrmCap.SYNCOBJ) === 0n) {
      throw notSupported('DRM sync objects', device.driver, 'GET_CAP(DRM_CAP_SYNCOBJ) is 0');
    }
    return new Syncobj(device, callNative(device.callSite, () => native().syncobjCreate(device.fd, signaled)));
  }

  /** Imports a sync object fd exported by Syncobj.exportFd (of this or another process). */
  static importFd(device: DrmDevice, fd: number): Syncobj {
    if (!isInstance(device, DrmDevice)) throw invalidArgType('device', 'DrmDevice', device);
    if (!Number.isInteger(fd) || fd < 0) throw invalidArgValue('fd', fd, 'must be a file descriptor');
    device.assertUsable();
    return new Syncobj(device, callNative(device.callSite, () => native().syncobjFdToHandle(device.fd, fd)));
  }

  /**
   * Blocks this thread until the fence signals or `deadlineNs` (absolute CLOCK_MONOTONIC) passes (ETIME).
   * The default deadline 0 makes it a non-blocking check.
   */
  wait(deadlineNs: U64Like = 0): void {
    this.#check();
    const deadline = toU64(deadlineNs, 'deadlineNs');
    callNative(this.device.callSite, () => native().syncobjWait(this.device.fd, [this.handle], deadline, true));
  }

  /** Signals the sync object (replaces its fence with a signalled one). */
  signal(): void {
    this.#check();
    callNative(this.device.callSite, () => native().syncobjSignal(this.device.fd, [this.handle]));
  }

  /** Removes the fence (unsignalled, nothing to wait for). */
  reset(): void {
    this.#check();
    callNative(this.device.callSite, () => native().syncobjReset(this.device.fd, [this.handle]));
  }

  /** A sync_file of the current fence. */
  exportSyncFile(): SyncFile {
    this.#check();
    return new SyncFile(callNative(this.device.callSite, () => native().syncobjHandleToFd(this.device.fd, this.handle, true)));
  }

  /** Replaces the fence with `syncFile`'s. */
  importSyncFile(syncFile: SyncFile): void {
    if (!isInstance(syncFile, SyncFile)) throw invalidArgType('syncFile', 'SyncFile', syncFile);
    this.#check();
    if (syncFile.closed) throw invalidArgValue('syncFile', syncFile, 'is closed');
    callNative(this.device.callSite, () => native().syncobjImportSyncFile(this.device.fd, this.handle, syncFile.fd));
  }

  /** An fd for the sync object itself, to share it; the caller closes it. */
  exportFd(): number {
    this.#check();
    return callNative(this.device.callSite, () => native().syncobjHandleToFd(this.device.fd, this.handle, false));
  }

  #check(): void {
    this.assertOpen();
    this.device.assertUsable();
  }

  protected describe(): string {
    return `Syncobj ${this.handle} of ${this.device.path}`;
  }

  protected release(): void {
    if (!this.device.closed) native().syncobjDestroy(this.device.fd, this.handle);
  }
}
