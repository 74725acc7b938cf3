// SPDX-License-Identifier: MIT
// The software device: the Device/Buffer interface over memfds, for machines without DRM (and for tests
// and the demo there). Each buffer is a memfd sealed at its size (memfd_create(2), F_SEAL_SHRINK |
// F_SEAL_GROW), so any sub-range maps correctly and no mapping can run past the end. Its "dma-bufs" are
// duplicates of the memfd: they map like dma-bufs and carry no fences.
import { native } from '../native.js';
import { toU64, type U64Like } from '../u64.js';
import type { Buffer, Device } from './device.js';
import { DmaBuf, type MapOptions, mapRange } from './dma-buf.js';
import { invalidArgType, invalidArgValue, outOfRange } from '../arg-errors.js';
import { callNative, type CallSite, useAfterClose } from './errors.js';
import { type Mapping, MappingSet } from './mapping.js';
import { isInstance, Resource } from './resource.js';

const site: CallSite = { path: 'software', driver: 'software' };

/** A memfd-backed stand-in for a DRM device. */
export class SoftwareDevice extends Resource implements Device {
  readonly kind = 'software' as const;
  readonly path = 'software';
  readonly driver = 'software';
  #nextHandle = 1;

  constructor() {
    super();
  }

  /** A zeroed buffer of `size` bytes rounded up to whole pages. */
  createBuffer(size: U64Like): SoftwareBuffer {
    this.assertOpen();
    const bytes = toU64(size, 'size');
    const page = BigInt(native().pageSize);
    if (bytes === 0n) throw outOfRange('size', 'at least 1 byte', size);
    if (bytes > (1n << 62n)) throw outOfRange('size', 'at most 2^62', size);
    const rounded = ((bytes + page - 1n) / page) * page;
    const handle = this.#nextHandle++;
    const fd = callNative(site, () => native().memfdCreate(`drm-gpuvm-buffer-${handle}`, rounded));
    return new SoftwareBuffer(this, handle, fd, rounded);
  }

  /** A buffer over the memfd behind `dmaBuf` (exported by this or another software device). */
  importDmaBuf(dmaBuf: DmaBuf): SoftwareBuffer {
    if (!isInstance(dmaBuf, DmaBuf)) throw invalidArgType('dmaBuf', 'DmaBuf', dmaBuf);
    this.assertOpen();
    if (dmaBuf.closed) throw useAfterClose('DmaBuf');
    if (dmaBuf.kind !== 'memfd') throw invalidArgValue('dmaBuf', dmaBuf, 'must be a memfd: the software device cannot import a DRM dma-buf');
    const fd = callNative(site, () => native().dup(dmaBuf.fd));
    return new SoftwareBuffer(this, this.#nextHandle++, fd, dmaBuf.size);
  }

  protected describe(): string {
    return 'SoftwareDevice';
  }

  protected release(): void {
    // Buffers own their memfds; like a DRM file, closing the device leaves their mappings intact.
  }
}

/** A buffer of the software device: a sealed memfd. */
export class SoftwareBuffer extends Resource implements Buffer {
  readonly device: SoftwareDevice;
  readonly handle: number;
  readonly size: bigint;
  /** The memfd, owned by this buffer. */
  readonly fd: number;
  readonly #mappings = new MappingSet();

  /** @internal Made by SoftwareDevice. */
  constructor(device: SoftwareDevice, handle: number, fd: number, size: bigint) {
    super(() => native().close(fd));
    this.device = device;
    this.handle = handle;
    this.fd = fd;
    this.size = size;
  }

  /** Maps any page-aligned byte range (memfds honour the offset). */
  map(options: MapOptions = {}): Mapping {
    const { offset, length } = mapRange(options, this.size);
    // After the options: a getter among them may have closed this buffer.
    this.assertOpen();
    return callNative(site, () => this.#mappings.map(this.fd, offset, length, offset));
  }

  /** A DmaBuf (kind 'memfd') over a duplicate of the memfd. */
  exportDmaBuf(): DmaBuf {
    this.assertOpen();
    return new DmaBuf(callNative(site, () => native().dup(this.fd)), this.size, 'memfd', site);
  }

  /** Live mappings of this buffer. */
  get mappingCount(): number {
    return this.#mappings.size;
  }

  protected describe(): string {
    return `SoftwareBuffer ${this.handle}`;
  }

  protected release(): void {
    this.#mappings.unmapAll();
    native().close(this.fd);
  }
}
