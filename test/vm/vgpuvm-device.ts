// SPDX-License-Identifier: MIT
// Finds the vgpuvm render node and the programs that drive it, for the test/vm/vgpuvm-*.test.ts suites.
// They run inside `drm-gpuvm vm --kernel sid --with-vgpuvm`, which loads the module and builds the programs
// on the host before booting; the host's cache is visible in the guest through the shared root.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { toolPath, type ToolName } from '../kmod/build.mjs';

/** Where the vgpuvm device and tools are, or why the suites cannot run here. */
export type VgpuvmSetup =
  | { ready: true; node: string; tool: (name: ToolName) => string }
  | { ready: false; reason: string };

/** The vgpuvm render node (checked by DRM_IOCTL_VERSION through `replay --probe`), or why there is none. */
export function findVgpuvm(): VgpuvmSetup {
  const replay = toolPath('replay');
  if (!existsSync(replay)) {
    return { ready: false, reason: `the vgpuvm tools are not built (${replay}); run node test/kmod/build.mjs on the host, or use drm-gpuvm vm --with-vgpuvm` };
  }
  let nodes: string[];
  try {
    nodes = readdirSync('/dev/dri').filter((name) => name.startsWith('renderD')).map((name) => `/dev/dri/${name}`);
  } catch {
    nodes = [];
  }
  const node = nodes.find((path) => spawnSync(replay, ['--probe', path]).status === 0);
  if (node === undefined) {
    return { ready: false, reason: 'no vgpuvm render node: run inside drm-gpuvm vm --kernel sid --with-vgpuvm' };
  }
  const tool = (name: ToolName): string => {
    const path = toolPath(name);
    if (!existsSync(path)) throw new Error(`vgpuvm tool '${name}' is not built (${path})`);
    return path;
  };
  return { ready: true, node, tool };
}

/** Says loudly that a suite did not run, so a skip is never read as a pass. */
export function reportNotRun(suite: string, setup: VgpuvmSetup): void {
  if (!setup.ready) process.stderr.write(`${suite}: NOT RUN (skipped, not passed): ${setup.reason}\n`);
}
