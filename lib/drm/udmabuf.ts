// SPDX-License-Identifier: MIT
// Memory that is both a plain memfd and a dma-buf: a sealed memfd, and a dma-buf over it made by
// /dev/udmabuf (CONFIG_UDMABUF), which a DRM device imports as a GEM object. The memfd keeps mapping the
// right pages at any offset where a driver's own dma-buf mmap may not (the VA window uses that).
import { invalidArgType, invalidArgValue, outOfRange } from '../arg-errors.js';
import { native } from '../native.js';
import { toU64, type U64Like } from '../u64.js';
import { DmaBuf } from './dma-buf.js';
import { callNative, useAfterClose } from './errors.js';
import { isInstance } from './resource.js';

/** A zeroed memfd of `size` bytes sealed against shrinking, as a DmaBuf of kind 'memfd'. */
export function createMemfd(size: U64Like, name = 'drm-gpuvm-memfd'): DmaBuf {
  const bytes = toU64(size, 'size');
  if (bytes === 0n) throw outOfRange('size', 'at least 1 byte', size);
  if (typeof name !== 'string') throw invalidArgType('name', 'string', name);
  const fd = callNative({ path: 'memfd' }, () => native().memfdCreate(name, bytes));
  return new DmaBuf(fd, bytes, 'memfd', { driver: 'software' });
}

/** A dma-buf over `[offset, offset + size)` of `memfd` (page-aligned), made by /dev/udmabuf. */
export function createUdmabuf(memfd: DmaBuf, offset: U64Like, size: U64Like): DmaBuf {
  if (!isInstance(memfd, DmaBuf)) throw invalidArgType('memfd', 'DmaBuf', memfd);
  const start = toU64(offset, 'offset');
  const bytes = toU64(size, 'size');
  if (memfd.closed) throw useAfterClose('DmaBuf');
  if (memfd.kind !== 'memfd') throw invalidArgValue('memfd', memfd, 'must be a memfd (from createMemfd or the software device)');
  if (bytes === 0n || start + bytes > memfd.size) throw outOfRange('size', `in [1, ${memfd.size - start}] (the memfd is ${memfd.size} bytes)`, size);
  const fd = callNative({ path: '/dev/udmabuf' }, () => native().udmabufCreate(memfd.fd, start, bytes));
  return new DmaBuf(fd, bytes, 'dma-buf', { path: '/dev/udmabuf' });
}

