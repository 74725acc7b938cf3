// SPDX-License-Identifier: MIT
// Where the VA window backend gets a BO's memory, and which BO offsets it can map correctly. Probed per
// device, never assumed from the kernel version:
// - software device: a sealed memfd; any page-aligned offset maps correctly.
// - a DRM device whose dma-bufs map sub-ranges correctly (DrmDevice.checkSubrangeMapping): a GEM buffer,
//   mapped through its dma-buf at any offset.
// - otherwise, with udmabuf (Linux 7.2's vgem): a sealed memfd turned into a dma-buf by udmabuf and
//   imported into the device, so the BO is a real GEM object (fences attach), while the window maps the
//   memfd, which honours the offset.
// - otherwise (Linux 6.1's vgem): a GEM buffer mapped through its dma-buf from BO offset 0 only. vgem's
//   fault handler computes the page from the address minus the start of the mapping and ignores the
//   mapping's page offset, so a mapping that starts at BO offset k shows page 0 there. VaWindow.map faults
//   such a mapping in whole while it starts at offset 0, so pieces an unmap leaves of it stay right; a new
//   mapping that starts elsewhere would not, and the backend refuses every request that would need one
//   (ERR_VA_WINDOW_UNSAFE_MAPPING).
import type { Buffer, Device } from '../drm/device.js';
import { DrmDevice } from '../drm/drm-device.js';
import { pageSize } from '../drm/page-size.js';
import { createMemfd, createUdmabuf } from '../drm/udmabuf.js';
import type { WindowSource } from '../drm/va-window.js';
import { isInstance } from '../drm/resource.js';

/** How a device's BOs are given memory the window can map. */
export type WindowMemoryKind = 'memfd' | 'gem' | 'udmabuf' | 'gem-offset-zero';

/** The outcome of probing a device. */
export interface WindowMemoryPlan {
  /** What backs the window's mappings on this device: memfd pages, the GEM BOs themselves, udmabufs over memfds, or GEM BOs mapped only from offset 0. */
  readonly kind: WindowMemoryKind;
  /** Whether a mapping may start at any page-aligned BO offset (false: only at offset 0). */
  readonly anyOffset: boolean;
  /** Why only offset 0 is safe, for refusals; empty when anyOffset. */
  readonly reason: string;
}

/** A BO's memory as the window maps it, and the device buffer that is the BO. */
export interface WindowMemory {
  /** The device's buffer: a SoftwareBuffer, or a GemBuffer (also for udmabuf memory, imported). */
  readonly buffer: Buffer;
  /** What the window maps: the buffer itself, its dma-buf, or the memfd behind a udmabuf. */
  readonly source: WindowSource;
  /**
   * Why this memory maps correctly only from BO offset 0 (null: any page-aligned offset), where it differs
   * from the device's plan: an imported dma-buf of unknown origin, say. Absent: the plan says.
   */
  readonly offsetRule?: string | null;
  /** Releases what allocate() created (the window must no longer map it). */
  close(): void;
}

// A sealed memfd of `size` bytes as a DmaBuf, and a udmabuf over all of it imported into `device`.
function udmabufMemory(device: DrmDevice, size: bigint): WindowMemory {
  const memory = createMemfd(size, 'drm-gpuvm-va-window');
  try {
    using exported = createUdmabuf(memory, 0n, size);
    const buffer = device.importDmaBuf(exported);
    return { buffer, source: memory, close: () => { buffer.close(); memory.close(); } };
  } catch (error) {
    memory.close();
    throw error;
  }
}

// The udmabuf path works on `device` when a udmabuf over a memfd imports, and the page the memfd shows at
// an offset is the page the imported GEM shows there (checked through its offset-0 dma-buf mapping).
function probeUdmabuf(device: DrmDevice): string | null {
  const page = BigInt(pageSize());
  let memory: WindowMemory;
  try {
    memory = udmabufMemory(device, 2n * page);
  } catch (error) {
    return `udmabuf is not usable (${(error as Error).message})`;
  }
  try {
    using whole = memory.source.map();
    whole.bytes.fill(0x11, 0, Number(page));
    whole.bytes.fill(0x22, Number(page));
    using tail = memory.source.map({ offset: page, length: page });
    using exported = memory.buffer.exportDmaBuf();
    using gemView = exported.map();
    if (tail.bytes[0] !== 0x22 || gemView.bytes[Number(page)] !== 0x22 || gemView.bytes[0] !== 0x11) {
      return 'udmabuf memory imported into the device does not show the memfd\'s pages';
    }
    return null;
  } catch (error) {
    return `udmabuf memory could not be checked (${(error as Error).message})`;
  } finally {
    memory.close();
  }
}

/** Probes `device` (a one-time cost of a few small buffers) and says how the window will get BO memory. */
export function planWindowMemory(device: Device): WindowMemoryPlan {
  if (!isInstance(device, DrmDevice)) return { kind: 'memfd', anyOffset: true, reason: '' };
  let subrange: string;
  try {
    device.checkSubrangeMapping();
    return { kind: 'gem', anyOffset: true, reason: '' };
  } catch (error) {
    subrange = (error as Error).message;
  }
  const udmabuf = probeUdmabuf(device);
  if (udmabuf === null) return { kind: 'udmabuf', anyOffset: true, reason: '' };
  return {
    kind: 'gem-offset-zero',
    anyOffset: false,
    reason: `${device.driver} on this kernel maps a BO only from offset 0 correctly (${subrange}), and ${udmabuf}`,
  };
}

/** Allocates `size` bytes of zeroed BO memory on `device` the way `plan` says. */
export function allocateWindowMemory(device: Device, plan: WindowMemoryPlan, size: bigint): WindowMemory {
  if (plan.kind === 'udmabuf') return udmabufMemory(device as DrmDevice, size);
  const buffer = device.createBuffer(size);
  if (plan.kind === 'memfd') return { buffer, source: buffer, close: () => buffer.close() };
  try {
    const dmaBuf = buffer.exportDmaBuf();
    return { buffer, source: dmaBuf, close: () => { dmaBuf.close(); buffer.close(); } };
  } catch (error) {
    buffer.close();
    throw error;
  }
}
