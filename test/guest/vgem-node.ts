// SPDX-License-Identifier: MIT
// Finds the vgem card and render nodes for the IGT mirror suites (vgem-basic, dmabuf-sync-file). They need a
// real vgem device, which exists inside `drm-gpuvm vm`; elsewhere they say loudly that they did not run.
import { DrmDevice, listDevices } from '../../lib/drm/index.js';

/** The vgem nodes, or why there are none. */
export type VgemNodes = { ready: true; card: string; render: string } | { ready: false; reason: string };

/** Looks for a card node whose driver (DRM_IOCTL_VERSION) is vgem, and its render sibling. */
export function findVgem(): VgemNodes {
  for (const node of listDevices()) {
    if (node.type !== 'card' || node.sibling === undefined) continue;
    try {
      using device = DrmDevice.open(node.path);
      if (device.driver === 'vgem') return { ready: true, card: node.path, render: node.sibling };
    } catch {
      // Not openable here (permissions): keep looking.
    }
  }
  return { ready: false, reason: 'no vgem device: run inside `drm-gpuvm vm` (npm test does)' };
}

/** Says on stderr that a suite did not run, so a skip is never read as a pass. */
export function reportNotRun(suite: string, nodes: VgemNodes): void {
  if (!nodes.ready) process.stderr.write(`${suite}: NOT RUN (skipped, not passed): ${nodes.reason}\n`);
}
