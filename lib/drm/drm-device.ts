// SPDX-License-Identifier: MIT
// An open DRM node (/dev/dri/cardN or renderDN): queries, GEM buffers, PRIME. See drm(7) and
// include/uapi/drm/drm.h. vgem allocates only on the card node; the render node imports (PRIME).
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { native } from '../native.js';
import type { NativeVersion } from '../native-types.js';
import { toU64, toUnsigned, type U64Like } from '../u64.js';
import type { Device } from './device.js';
import { DmaBuf } from './dma-buf.js';
import { assertOptionsObject, invalidArgType, invalidArgValue, outOfRange } from '../arg-errors.js';
import { callNative, type CallSite, toDrmError, unsafeMapping, useAfterClose } from './errors.js';
import { GemBuffer } from './gem-buffer.js';
import { isInstance, Resource } from './resource.js';
import { type DrmSetVersion, toSetVersionRequest } from './set-version.js';

/** The driver's identity from DRM_IOCTL_VERSION. */
export type DriverVersion = NativeVersion;

/** 'card' (primary node: modesetting, dumb buffers), 'render' (rendering only). */
export type NodeType = 'card' | 'render';

/** Arguments of DrmDevice.createDumb (MODE_CREATE_DUMB). */
export interface DumbOptions {
  /** Width in pixels. */
  width: number;
  /** Height in pixels (rows). */
  height: number;
  /** Bits per pixel. */
  bpp: number;
}

const U32_MAX = 0xffffffffn;

// A u32 argument as a number. Plain u32 numbers skip the bigint round trip of toUnsigned (measurable in
// create loops); every other value goes through toUnsigned, which accepts or refuses it.
function u32(value: unknown, name: string): number {
  return typeof value === 'number' && value >>> 0 === value ? value : Number(toUnsigned(value, name, U32_MAX));
}

// The node type from sysfs (/sys/dev/char/226:MINOR links to .../drm/<name>), else from the minor's
// classic range; a minor is never trusted alone on kernels that hand out more than 64 per type.
function nodeTypeOf(minor: number): NodeType {
  try {
    const name = basename(readlinkSync(`/sys/dev/char/226:${minor}`));
    if (name.startsWith('renderD')) return 'render';
    if (name.startsWith('card')) return 'card';
  } catch {
    // No sysfs entry (a container without /sys): the classic minor ranges below still hold.
  }
  return minor >= 128 && minor < 192 ? 'render' : 'card';
}

/** An open DRM card or render node. */
export class DrmDevice extends Resource implements Device {
  readonly kind = 'drm' as const;
  readonly path: string;
  /** The node's fd (O_RDWR | O_CLOEXEC), owned by this object. */
  readonly fd: number;
  /** Whether the device was opened through its card node or its render node. */
  readonly nodeType: NodeType;
  /** DRM_IOCTL_VERSION of the driver. */
  readonly version: DriverVersion;
  readonly driver: string;
  /** GemBuffers alive per GEM handle: the handle is closed with the last one. */
  readonly #handleUsers = new Map<number, number>();
  /** Where native createDumb writes the new handle and pitch (cheaper than a result object per call). */
  readonly #createdDumb = new Uint32Array(2);
  #subrangeProbe: { ok: true } | { ok: false; why: string } | undefined;
  /** @internal Where errors from this device's calls happen (made once: it is on every call's path). */
  readonly callSite: CallSite;

  // Only ever given an fd that open() has checked: the safety net is registered once the object is whole,
  // so a refused path never leaves a finalizer that would close the fd number again later (by then
  // possibly another file of this process).
  private constructor(path: string, fd: number, minor: number, version: DriverVersion) {
    super(() => native().close(fd));
    this.path = path;
    this.fd = fd;
    this.nodeType = nodeTypeOf(minor);
    this.version = version;
    this.driver = version.name;
    this.callSite = { path, nodeType: this.nodeType, driver: this.driver };
  }

  /** Opens a DRM node read-write. Errors say what to do (permissions, missing node). */
  static open(path: string): DrmDevice {
    if (typeof path !== 'string') throw invalidArgType('path', 'string', path);
    const site = { path };
    const fd = callNative(site, () => native().open(path, true));
    let minor: number;
    let version: DriverVersion;
    try {
      const kind = callNative(site, () => native().fdKind(fd));
      if (kind.kind !== 'drm' || kind.minor === undefined) throw invalidArgValue('path', path, 'must be a DRM device node');
      minor = kind.minor;
      version = callNative(site, () => native().version(fd));
    } catch (error) {
      native().close(fd);
      throw error;
    }
    return new DrmDevice(path, fd, minor, version);
  }


  /** @internal Throws ERR_USE_AFTER_CLOSE once the device is closed. */
  assertUsable(): void {
    this.assertOpen();
  }

  /**
   * DRM_IOCTL_SET_VERSION: asks for DRM interface version `interfaceMajor.interfaceMinor` and driver
   * version `driverMajor.driverMinor` (a major of -1 asks nothing for that pair) and returns the versions
   * the kernel has. Only the card node's current DRM master may ask (others get EACCES, render nodes
   * too); a version the kernel does not have is EINVAL. Interface 1.1 or later also sets the master's
   * bus id. Each field must be a C int (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE, before any syscall).
   */
  setVersion(request: DrmSetVersion): DrmSetVersion {
    this.assertOpen();
    const r = toSetVersionRequest(request);
    return callNative(this.callSite, () =>
      native().setVersion(this.fd, r.interfaceMajor, r.interfaceMinor, r.driverMajor, r.driverMinor));
  }

  /** DRM_IOCTL_GET_CAP: a capability's value (see DrmCap). */
  getCap(capability: U64Like): bigint {
    this.assertOpen();
    const cap = toU64(capability, 'capability');
    // callNative's work without its closure (as VaWindow.map does): the closure was two thirds of a
    // getCap's JavaScript (bench/api-js-overhead.mjs). A pair, at ten times the JavaScript, showed no gain.
    try {
      return native().getCap(this.fd, cap);
    } catch (error) {
      throw toDrmError(error, this.callSite);
    }
  }

  /** DRM_IOCTL_SET_CLIENT_CAP (see DrmClientCap); card nodes of KMS drivers only. */
  setClientCap(capability: U64Like, value: U64Like): void {
    this.assertOpen();
    const cap = toU64(capability, 'capability');
    const v = toU64(value, 'value');
    callNative(this.callSite, () => native().setClientCap(this.fd, cap, v));
  }

  /** MODE_CREATE_DUMB: a zeroed buffer of width x height pixels of bpp bits (card nodes only). */
  createDumb(options: DumbOptions): GemBuffer {
    assertOptionsObject(options);
    const width = u32(options.width, 'width');
    const height = u32(options.height, 'height');
    const bpp = u32(options.bpp, 'bpp');
    // After the options: a getter among them may have closed this device.
    this.assertOpen();
    const created = this.#createdDumb;
    const size = callNative(this.callSite, () => native().createDumb(this.fd, width, height, bpp, created));
    return this.#adopt(created[0], size, created[1]);
  }

  /** A zeroed buffer of at least `size` bytes: a dumb buffer of 4096-byte rows (card nodes only). */
  createBuffer(size: U64Like): GemBuffer {
    this.assertOpen();
    const bytes = toU64(size, 'size');
    if (bytes === 0n) throw outOfRange('size', 'at least 1 byte', size);
    const rows = (bytes + 4095n) / 4096n;
    if (rows > U32_MAX) throw outOfRange('size', `at most ${U32_MAX * 4096n} bytes (2^32-1 rows of 4096 bytes in a dumb buffer)`, size);
    return this.createDumb({ width: 1024, height: Number(rows), bpp: 32 });
  }

  /** PRIME_FD_TO_HANDLE: this device's handle for `dmaBuf` (the same handle for the same buffer). */
  importDmaBuf(dmaBuf: DmaBuf): GemBuffer {
    if (!isInstance(dmaBuf, DmaBuf)) throw invalidArgType('dmaBuf', 'DmaBuf', dmaBuf);
    this.assertOpen();
    if (dmaBuf.closed) throw useAfterClose('DmaBuf');
    const handle = callNative(this.callSite, () => native().primeFdToHandle(this.fd, dmaBuf.fd));
    return this.#adopt(handle, dmaBuf.size, 0);
  }

  /**
   * A GemBuffer for `handle`, a GEM handle a driver-private ioctl created on this file (a BO_CREATE or
   * GEM_CREATE issued with issueIoctlCall): from then on it is counted and closed like any other, with its
   * last GemBuffer. `size` is the size the driver reported. Its map() needs dumb-buffer support; map its
   * dma-buf instead on render-only drivers.
   */
  adoptGemHandle(handle: number, size: U64Like): GemBuffer {
    const h = u32(handle, 'handle');
    const bytes = toU64(size, 'size');
    this.assertOpen();
    if (h === 0) throw outOfRange('handle', 'a GEM handle (not 0)', handle);
    return this.#adopt(h, bytes, 0);
  }

  /** GEM_OPEN of a global name from GemBuffer.flink (card nodes only). */
  openFlink(name: number): GemBuffer {
    this.assertOpen();
    const n = u32(name, 'name');
    const opened = callNative(this.callSite, () => native().gemOpen(this.fd, n));
    return this.#adopt(opened.handle, opened.size, 0);
  }

  /** @internal PRIME_HANDLE_TO_FD for a GemBuffer of this device. */
  exportHandle(handle: number, size: bigint, writable: boolean): DmaBuf {
    this.assertOpen();
    const fd = callNative(this.callSite, () => native().primeHandleToFd(this.fd, handle, writable));
    return new DmaBuf(fd, size, 'dma-buf', this.callSite, () => this.checkSubrangeMapping());
  }

  /**
   * Throws ERR_DRM_UNSAFE_MAPPING unless this driver maps a dma-buf at a non-zero offset correctly. Checked
   * once per device: a 2-page buffer gets different bytes in each page, and page 1 is mapped alone. On
   * vgem (Linux 6.1 and 7.2) such a map silently shows page 0: the shmem helper's fault handler ignores the
   * mapping's page offset. Wrong memory is never handed out; the error says to map from offset 0.
   */
  checkSubrangeMapping(): void {
    this.#subrangeProbe ??= this.#probeSubrangeMapping();
    if (!this.#subrangeProbe.ok) throw unsafeMapping(this.#subrangeProbe.why);
  }

  #probeSubrangeMapping(): { ok: true } | { ok: false; why: string } {
    this.assertOpen();
    const page = BigInt(native().pageSize);
    let probe: GemBuffer;
    try {
      probe = this.createBuffer(2n * page);
    } catch (error) {
      return { ok: false, why: `mapping a dma-buf at a non-zero offset cannot be verified on ${this.path} (${this.driver}): ` +
        `the probe buffer could not be created (${(error as Error).message}); map from offset 0 and take a subarray` };
    }
    try {
      using dmaBuf = probe.exportDmaBuf();
      const whole = native().map(dmaBuf.fd, 0n, 2n * page);
      const tail = native().map(dmaBuf.fd, page, page);
      try {
        new Uint8Array(whole, 0, Number(page)).fill(0xa5);
        new Uint8Array(whole, Number(page), Number(page)).fill(0x5a);
        const seen = new Uint8Array(tail)[0];
        if (seen === 0x5a) return { ok: true };
        return { ok: false, why: `the ${this.driver} driver of this kernel maps a dma-buf at a non-zero offset ` +
          `from the wrong page (a probe mapped page 1 and read page ${seen === 0xa5 ? 0 : '?'}): the kernel ignores ` +
          'the page offset when it faults dma-buf pages in; map from offset 0 and take a subarray' };
      } finally {
        native().unmap(tail);
        native().unmap(whole);
      }
    } finally {
      probe.close();
    }
  }

  #adopt(handle: number, size: bigint, pitch: number): GemBuffer {
    this.#handleUsers.set(handle, (this.#handleUsers.get(handle) ?? 0) + 1);
    const users = this.#handleUsers;
    const fd = this.fd;
    let released = false;
    // Refers to the table and the fd, never to the GemBuffer, so it can also run as its finalizer.
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (users.get(handle) ?? 1) - 1;
      if (left > 0) {
        users.set(handle, left);
        return;
      }
      users.delete(handle);
      // Closing the device fd has already released every handle in the kernel.
      if (!this.closed) native().gemClose(fd, handle);
    };
    return new GemBuffer(this, handle, size, pitch, release);
  }

  protected describe(): string {
    return `DrmDevice ${this.path}`;
  }

  protected release(): void {
    this.#handleUsers.clear();
    native().close(this.fd);
  }
}
