// SPDX-License-Identifier: MIT
// A GEM buffer object of a DRM device, named by its handle in that device's file.
//
// Handles are per DRM file and not reference-counted by the kernel: importing the same dma-buf twice
// gives the same handle, and one GEM_CLOSE ends it for both. DrmDevice counts the GemBuffers per handle
// and closes the handle with the last one. Mappings made through the node stay valid after GEM_CLOSE
// in the kernel (IGT vgem_basic "mmap"), but close() unmaps them anyway: a closed buffer has no memory.
import { native } from '../native.js';
import type { Buffer } from './device.js';
import { type DmaBuf, type MapOptions, mapRange } from './dma-buf.js';
import type { DrmDevice } from './drm-device.js';
import { callNative } from './errors.js';
import { type Mapping, MappingSet } from './mapping.js';
import { Resource } from './resource.js';
import { assertOptionsObject } from '../arg-errors.js';

/** Options of GemBuffer.exportDmaBuf. */
export interface ExportOptions {
  /** Export with DRM_RDWR so the dma-buf can be mapped for writing. Default true. */
  writable?: boolean;
}

/** A GEM buffer object. */
export class GemBuffer extends Resource implements Buffer {
  readonly device: DrmDevice;
  readonly handle: number;
  readonly size: bigint;
  /** Bytes per row, for dumb buffers made with width/height/bpp; 0 for imported buffers. */
  readonly pitch: number;
  readonly #mappings = new MappingSet();
  readonly #release: () => void;

  /** @internal Made by DrmDevice; `release` drops this buffer's count on the handle. */
  constructor(device: DrmDevice, handle: number, size: bigint, pitch: number, release: () => void) {
    super(release);
    this.device = device;
    this.handle = handle;
    this.size = size;
    this.pitch = pitch;
    this.#release = release;
  }

  /** Maps a byte range through the DRM node (MODE_MAP_DUMB; card nodes only). */
  map(options: MapOptions = {}): Mapping {
    const { offset, length } = mapRange(options, this.size);
    // After the options: a getter among them may have closed this buffer or its device.
    this.assertOpen();
    this.device.assertUsable();
    const site = this.device.callSite;
    const fakeOffset = callNative(site, () => native().mapDumb(this.device.fd, this.handle));
    return callNative(site, () => this.#mappings.map(this.device.fd, fakeOffset + offset, length, offset));
  }

  /** Exports the buffer as a dma-buf fd (PRIME_HANDLE_TO_FD, close-on-exec). */
  exportDmaBuf(options: ExportOptions = {}): DmaBuf {
    assertOptionsObject(options);
    const writable = options.writable ?? true;
    this.assertOpen();
    return this.device.exportHandle(this.handle, this.size, writable);
  }

  /** A global name other clients can open (GEM_FLINK; card nodes only). Prefer dma-bufs. */
  flink(): number {
    this.assertOpen();
    this.device.assertUsable();
    return callNative(this.device.callSite, () => native().gemFlink(this.device.fd, this.handle));
  }

  /** Live mappings of this buffer. */
  get mappingCount(): number {
    return this.#mappings.size;
  }

  protected describe(): string {
    return `GemBuffer ${this.handle} of ${this.device.path}`;
  }

  protected release(): void {
    this.#mappings.unmapAll();
    this.#release();
  }
}
