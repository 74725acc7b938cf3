// SPDX-License-Identifier: MIT
// The vgpuvm test module for the VM runner: builds it (and the programs that drive it) for the exact kernel the
// runner boots, with kmod/vgpuvm/build.mjs, and names the modules to load in the guest, in order.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareKernel } from './boot-files.js';
import { VmRunnerError } from './errors.js';
import type { StepLog } from './step-log.js';
import type { KernelChoice } from './vm-args.js';

/** What kmod/vgpuvm/build.mjs exports (it is plain JavaScript, so its shape is declared here). */
interface KmodBuild {
  buildVgpuvm(options: { kernelVersion?: string; log?: (line: string) => void }): Promise<{
    module: string;
    kernelVersion: string;
    dependencies: string[];
  }>;
  buildTool(name: VgpuvmTool, options: { log?: (line: string) => void }): Promise<string>;
  toolPath(name: VgpuvmTool): string;
}

/** The programs built beside the module: the bring-up test and the trace replayer. */
export type VgpuvmTool = 'smoke' | 'replay';

/** The vgpuvm module built for one kernel, and what to load for it. */
export interface VgpuvmBuild {
  /** Host path of vgpuvm.ko. */
  module: string;
  /** Host path of the static bring-up test binary (kmod/vgpuvm/smoke.c). */
  smoke: string;
  /** Host path of the static trace replayer (kmod/vgpuvm/replay.c). */
  replay: string;
  /** In-tree modules to load first, then the .ko path: the runner's `extraModules`. */
  modules: string[];
}

// The module sources ship in the package (kmod/vgpuvm/, GPL-2.0) and are built on first use;
// lib/qemu/ and dist/qemu/ are both two levels below the package root.
const BUILD_SCRIPT = fileURLToPath(new URL('../../kmod/vgpuvm/build.mjs', import.meta.url));

async function loadBuildScript(): Promise<KmodBuild> {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new VmRunnerError('ERR_QEMU_MODULE', `vgpuvm needs its sources in kmod/vgpuvm/ beside lib/ and dist/: ${BUILD_SCRIPT} is missing`);
  }
  return (await import(pathToFileURL(BUILD_SCRIPT).href)) as KmodBuild;
}

/**
 * Builds (or finds in the cache) vgpuvm.ko for `kernelRelease` (`uname -r` of the kernel the VM boots, a
 * Debian sid kernel: the build installs that release's linux-headers package from sid) and the smoke
 * and replay binaries. The first build makes a sid chroot (about a minute, needs root and network).
 */
export async function buildVgpuvmFor(kernelRelease: string, log: (line: string) => void): Promise<VgpuvmBuild> {
  const kmod = await loadBuildScript();
  try {
    const built = await kmod.buildVgpuvm({ kernelVersion: kernelRelease, log });
    const smoke = await kmod.buildTool('smoke', { log });
    const replay = await kmod.buildTool('replay', { log });
    return { module: built.module, smoke, replay, modules: [...built.dependencies, built.module] };
  } catch (err) {
    throw new VmRunnerError('ERR_QEMU_MODULE', `cannot build vgpuvm for Linux ${kernelRelease}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where the vgpuvm device and its programs are (inside the VM), or why they cannot be used here. */
export type VgpuvmSetup =
  | { ready: true; node: string; tool: (name: VgpuvmTool) => string }
  | { ready: false; reason: string };

/**
 * Finds the vgpuvm render node, by asking each render node's driver name (DRM_IOCTL_VERSION, through
 * `replay --probe`), and the programs built for the current sources. Inside `drm-gpuvm vm --kernel sid
 * --with-vgpuvm` both are there: the runner builds the programs on the host, whose cache the guest sees.
 */
export async function findVgpuvm(): Promise<VgpuvmSetup> {
  let kmod: KmodBuild;
  try {
    kmod = await loadBuildScript();
  } catch (err) {
    return { ready: false, reason: (err as Error).message };
  }
  const replay = kmod.toolPath('replay');
  if (!existsSync(replay)) {
    return { ready: false, reason: `the vgpuvm programs are not built (${replay}): run node kmod/vgpuvm/build.mjs, or drm-gpuvm vm --with-vgpuvm` };
  }
  let nodes: string[] = [];
  try {
    nodes = readdirSync('/dev/dri').filter((name) => name.startsWith('renderD')).sort().map((name) => `/dev/dri/${name}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const node = nodes.find((path) => spawnSync(replay, ['--probe', path]).status === 0);
  if (node === undefined) return { ready: false, reason: 'no vgpuvm render node: run inside drm-gpuvm vm --kernel sid --with-vgpuvm' };
  const tool = (name: VgpuvmTool): string => {
    const path = kmod.toolPath(name);
    if (!existsSync(path)) throw new VmRunnerError('ERR_QEMU_MODULE', `the vgpuvm program '${name}' is not built (${path})`);
    return path;
  };
  return { ready: true, node, tool };
}

/**
 * The runner's `extraModules` for `--with-vgpuvm`: builds vgpuvm (and its programs) for the sid kernel the
 * runner boots. Only Debian sid's x64 kernel: the build needs that exact release's headers package.
 */
export async function vgpuvmModulesFor(kernel: KernelChoice, cacheRoot: string, log: StepLog): Promise<string[]> {
  if (kernel.kind !== 'debian' || kernel.suite !== 'sid') {
    throw new VmRunnerError('ERR_QEMU_USAGE', '--with-vgpuvm needs --kernel sid (vgpuvm is built against Debian sid\'s kernel headers, and needs CONFIG_DRM_GPUVM)');
  }
  const prepared = await prepareKernel(kernel, 'x64', cacheRoot, log);
  return (await buildVgpuvmFor(prepared.release, log)).modules;
}
