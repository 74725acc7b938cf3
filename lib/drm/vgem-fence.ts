// SPDX-License-Identifier: MIT
// vgem's fences (DRM_IOCTL_VGEM_FENCE_ATTACH / _SIGNAL): put an unsignalled fence of your choosing on a
// buffer's reservation object, visible to dma-buf poll, sync_file export and DMA_BUF_IOCTL_SYNC of every
// dma-buf of that buffer. The kernel signals a forgotten fence after 10 s; closing the DRM fd signals all.
// The native side checks the driver name before issuing these driver-private ioctls.
import { native } from '../native.js';
import { assertOptionsObject, invalidArgType, invalidThis } from '../arg-errors.js';
import { callNative, notSupported, useAfterClose } from './errors.js';
import { GemBuffer } from './gem-buffer.js';
import { isInstance } from './resource.js';

/** Options of attachVgemFence. */
export interface VgemFenceOptions {
  /** A write (exclusive) fence instead of a read (shared) one. Default false. */
  write?: boolean;
}

/** A fence attached by vgem. */
export class VgemFence {
  /** The buffer the fence sits on. */
  readonly buffer: GemBuffer;
  /** The fence id, per DRM file. */
  readonly id: number;
  #signaled = false;

  /** @internal Made by attachVgemFence. */
  constructor(buffer: GemBuffer, id: number) {
    this.buffer = buffer;
    this.id = id;
  }

  /** Whether signal() has run. */
  get signaled(): boolean {
    VgemFence.#assertReal(this);
    return this.#signaled;
  }

  /** Signals the fence (VGEM_FENCE_SIGNAL); ETIMEDOUT if the kernel's 10 s timer already did. */
  signal(): void {
    VgemFence.#assertReal(this);
    const device = this.buffer.device;
    device.assertUsable();
    callNative(device.callSite, () => native().vgemFenceSignal(device.fd, this.id));
    this.#signaled = true;
  }

  // A Proxy of a fence could name any buffer and id: refused before any of its traps is read.
  static #assertReal(self: object): void {
    if (!(#signaled in self)) throw invalidThis();
  }
}

/** Attaches an unsignalled fence to `buffer` (VGEM_FENCE_ATTACH); vgem devices only. */
export function attachVgemFence(buffer: GemBuffer, options: VgemFenceOptions = {}): VgemFence {
  if (!isInstance(buffer, GemBuffer)) throw invalidArgType('buffer', 'GemBuffer', buffer);
  assertOptionsObject(options);
  const write = options.write ?? false;
  if (typeof write !== 'boolean') throw invalidArgType('write', 'boolean', write);
  // After the options: a getter among them may have closed the buffer or its device.
  if (buffer.closed) throw useAfterClose(`GemBuffer ${buffer.handle}`);
  const device = buffer.device;
  device.assertUsable();
  if (device.driver !== 'vgem') throw notSupported('VGEM_FENCE_ATTACH', device.driver, 'it is a vgem-only ioctl');
  const id = callNative(device.callSite, () => native().vgemFenceAttach(device.fd, buffer.handle, write));
  return new VgemFence(buffer, id);
}
