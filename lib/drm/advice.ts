// SPDX-License-Identifier: MIT
// What to tell the user when a syscall fails, keyed by errno, syscall, ioctl and node type. Facts come
// from the kernel's ioctl permission flags (drm_ioctl_permit, drm_ioctl.c) and the uAPI headers' comments.
import type { CallSite } from './errors.js';

const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;
const EINVAL = 22;
const ENOTTY = 25;
const EOPNOTSUPP = 95;

/** Ioctls without DRM_RENDER_ALLOW: a render node refuses them with EACCES. */
const cardOnly = new Map<string, string>([
  ['DRM_IOCTL_MODE_CREATE_DUMB', 'dumb buffers are created on the card node only (vgem allocates only on the card node): create there, export with PRIME and import on the render node'],
  ['DRM_IOCTL_MODE_MAP_DUMB', 'a render node cannot map dumb buffers: map the buffer through its dma-buf (buffer.exportDmaBuf().map())'],
  ['DRM_IOCTL_GEM_FLINK', 'global names need the card node; share buffers with PRIME (dma-buf fds) instead'],
  ['DRM_IOCTL_GEM_OPEN', 'global names need the card node; share buffers with PRIME (dma-buf fds) instead'],
  ['DRM_IOCTL_SET_CLIENT_CAP', 'client caps are set on the card node'],
]);

/** Advice for a failed `syscall` (and `ioctl`) with positive `errno` at `site`, or undefined. */
export function adviceFor(errno: number, syscall: string, ioctl: string | undefined, site: CallSite): string | undefined {
  if (syscall === 'open' && (errno === EACCES || errno === EPERM) && site.path?.startsWith('/dev/dri/')) {
    return site.path.includes('renderD')
      ? "add the user to the 'render' group (in a container: --device /dev/dri --group-add render)"
      : "add the user to the 'video' group (in a container: --device /dev/dri --group-add video)";
  }
  if (syscall === 'open' && errno === ENOENT && site.path?.startsWith('/dev/dri/')) {
    return 'no such DRM node: `drm-gpuvm info` lists the nodes; in a container pass --device /dev/dri';
  }
  if (ioctl === undefined) {
    if (syscall === 'mmap' && errno === EINVAL && site.nodeType !== undefined) {
      return 'DRM nodes map whole buffers only: map from offset 0 and take a subarray';
    }
    return undefined;
  }
  if (errno === EACCES && site.nodeType === 'render' && cardOnly.has(ioctl)) return cardOnly.get(ioctl);
  if (errno === EOPNOTSUPP && ioctl.startsWith('DRM_IOCTL_SYNCOBJ')) {
    return `the ${site.driver ?? 'driver'} driver has no sync objects (GET_CAP(DRM_CAP_SYNCOBJ) is 0)`;
  }
  if (errno === ENOTTY && ioctl.startsWith('DMA_BUF_IOCTL')) {
    return site.driver === 'software'
      ? "the software device's buffers are memfds, which carry no fences"
      : 'not a dma-buf, or a kernel without this ioctl (the sync_file ioctls need Linux 6.0)';
  }
  if (errno === ENOTTY && ioctl.startsWith('DRM_IOCTL')) return 'not a DRM device node';
  if (errno === ENOTTY && ioctl.startsWith('SYNC_IOC')) return 'not a sync_file';
  return undefined;
}
