// SPDX-License-Identifier: MIT
// The interface every device offers, DRM node or software: create buffers, map them, share them as fds.
import type { U64Like } from '../u64.js';
import type { DmaBuf, MapOptions } from './dma-buf.js';
import type { Mapping } from './mapping.js';

/** A device that allocates buffers: a DRM node (DrmDevice) or the memfd-backed SoftwareDevice. */
export interface Device extends Disposable {
  /** 'drm' for a kernel DRM node, 'software' for the memfd-backed stand-in. */
  readonly kind: 'drm' | 'software';
  /** The node path ('/dev/dri/card0'), or 'software'. */
  readonly path: string;
  /** The driver name from DRM_IOCTL_VERSION ('vgem'), or 'software'. */
  readonly driver: string;
  /** Whether close() has run. */
  readonly closed: boolean;
  /** A zero-filled buffer of at least `size` bytes (rounded up to whole pages). */
  createBuffer(size: U64Like): Buffer;
  /** A buffer of this device for the memory behind `dmaBuf` (PRIME import on DRM). */
  importDmaBuf(dmaBuf: DmaBuf): Buffer;
  /** Closes the device; its buffers stay usable where the kernel allows (see the Buffer docs). */
  close(): void;
}

/** A buffer object of a Device (a GEM object on DRM, a memfd on the software device). */
export interface Buffer extends Disposable {
  /** The device that owns the handle. */
  readonly device: Device;
  /** The GEM handle (per DRM file), or the software device's buffer number. */
  readonly handle: number;
  /** Size in bytes, a whole number of pages. */
  readonly size: bigint;
  /** Whether close() has run. */
  readonly closed: boolean;
  /** Maps a byte range for reading and writing; unmapped by Mapping.unmap() or by close(). */
  map(options?: MapOptions): Mapping;
  /** Shares the buffer as an fd (PRIME dma-buf on DRM, a memfd on the software device). */
  exportDmaBuf(): DmaBuf;
  /** Releases the handle and unmaps this buffer's mappings. */
  close(): void;
}
