// SPDX-License-Identifier: MIT
// Advice attached to failed syscalls, from the kernel's ioctl permission flags and common setups.
import { describe, expect, it } from 'vitest';
import { adviceFor } from '../../../lib/drm/advice.js';

const EACCES = 13;
const ENOENT = 2;
const EINVAL = 22;
const ENOTTY = 25;
const EOPNOTSUPP = 95;

describe('adviceFor', () => {
  it.each([
    ['open EACCES on a render node names the render group', EACCES, 'open', undefined, { path: '/dev/dri/renderD128' }, /'render' group/],
    ['open EACCES on a card node names the video group', EACCES, 'open', undefined, { path: '/dev/dri/card0' }, /'video' group/],
    ['open ENOENT under /dev/dri points at info and --device', ENOENT, 'open', undefined, { path: '/dev/dri/card9' }, /drm-gpuvm info/],
    ['dumb create on a render node says vgem allocates on the card node', EACCES, 'ioctl', 'DRM_IOCTL_MODE_CREATE_DUMB', { nodeType: 'render' }, /vgem allocates only on the card node/],
    ['dumb map on a render node points at the dma-buf', EACCES, 'ioctl', 'DRM_IOCTL_MODE_MAP_DUMB', { nodeType: 'render' }, /exportDmaBuf/],
    ['flink on a render node points at PRIME', EACCES, 'ioctl', 'DRM_IOCTL_GEM_FLINK', { nodeType: 'render' }, /PRIME/],
    ['syncobj EOPNOTSUPP names the driver', EOPNOTSUPP, 'ioctl', 'DRM_IOCTL_SYNCOBJ_CREATE', { driver: 'vgem' }, /vgem driver has no sync objects/],
    ['a dma-buf ioctl on a software memfd says memfds have no fences', ENOTTY, 'ioctl', 'DMA_BUF_IOCTL_SYNC', { driver: 'software' }, /memfds/],
    ['a dma-buf ioctl elsewhere names the 6.0 requirement', ENOTTY, 'ioctl', 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE', {}, /Linux 6\.0/],
    ['a DRM ioctl answered ENOTTY is not a DRM node', ENOTTY, 'ioctl', 'DRM_IOCTL_GET_CAP', { path: '/dev/null' }, /not a DRM device node/],
    ['an mmap EINVAL on a DRM node says to map whole buffers', EINVAL, 'mmap', undefined, { nodeType: 'card' }, /whole buffers/],
  ])('%s', (_name, errno, syscall, ioctl, site, expected) => {
    expect(adviceFor(errno, syscall, ioctl, site)).toMatch(expected);
  });

  it('gives none where no fix is known', () => {
    expect(adviceFor(EINVAL, 'ioctl', 'DRM_IOCTL_GEM_CLOSE', { nodeType: 'card' })).toBeUndefined();
  });

  it('gives no card-only advice for a card node that refused with EACCES', () => {
    expect(adviceFor(EACCES, 'ioctl', 'DRM_IOCTL_MODE_CREATE_DUMB', { nodeType: 'card' })).toBeUndefined();
  });
});
