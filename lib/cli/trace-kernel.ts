// SPDX-License-Identifier: MIT
// drm-gpuvm trace --kernel [FILE]: replays a GPUVM trace through the kernel's own drm_gpuvm, by way of the
// vgpuvm test module's VM_BIND, and prints the kernel's ops in the trace format, so that its output can be
// diffed with `drm-gpuvm trace FILE` (our model). Needs the vgpuvm device: run it inside
// `drm-gpuvm vm --kernel sid --with-vgpuvm -- ...`.
import { spawnSync } from 'node:child_process';
import { findVgpuvm } from '../qemu/vgpuvm.js';

/** Replays `file` (standard input when undefined or '-') through vgpuvm; resolves with the exit status. */
export async function runKernelTrace(file: string | undefined): Promise<number> {
  const setup = await findVgpuvm();
  if (!setup.ready) {
    process.stderr.write(`drm-gpuvm trace --kernel: ${setup.reason}\n`);
    return 1;
  }
  const result = spawnSync(setup.tool('replay'), ['--node', setup.node, file ?? '-'], { stdio: 'inherit' });
  if (result.error !== undefined) throw result.error;
  return result.status ?? 1;
}
