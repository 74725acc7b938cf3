// SPDX-License-Identifier: MIT
// The vgpuvm test module for the VM runner: builds it (and the programs that drive it) for the exact kernel the
// runner boots, with test/kmod/build.mjs, and names the modules to load in the guest, in order.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VmError } from './errors.js';

/** What test/kmod/build.mjs exports (it is plain JavaScript, so its shape is declared here). */
interface KmodBuild {
  buildVgpuvm(options: { kernelVersion?: string; log?: (line: string) => void }): Promise<{
    module: string;
    kernelVersion: string;
    dependencies: string[];
  }>;
  buildTool(name: 'smoke' | 'replay', options: { log?: (line: string) => void }): Promise<string>;
}

/** The vgpuvm module built for one kernel, and what to load for it. */
export interface VgpuvmBuild {
  /** Host path of vgpuvm.ko. */
  module: string;
  /** Host path of the static bring-up test binary (test/kmod/smoke.c). */
  smoke: string;
  /** Host path of the static trace replayer (test/kmod/replay.c). */
  replay: string;
  /** In-tree modules to load first, then the .ko path: the runner's `extraModules`. */
  modules: string[];
}

// The module sources live in the repository, beside the tests, not in the published package:
// lib/qemu/ and dist/qemu/ are both two levels below the package root.
const BUILD_SCRIPT = fileURLToPath(new URL('../../test/kmod/build.mjs', import.meta.url));

/**
 * Builds (or finds in the cache) vgpuvm.ko for `kernelRelease` (`uname -r` of the kernel the VM boots, a
 * Debian sid kernel: the build installs that release's linux-headers package from sid) and the smoke
 * and replay binaries. The first build makes a sid chroot (about a minute, needs root and network).
 */
export async function buildVgpuvmFor(kernelRelease: string, log: (line: string) => void): Promise<VgpuvmBuild> {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new VmError('ERR_VM_MODULE', `vgpuvm needs the repository's test/kmod/ (not in the published package): ${BUILD_SCRIPT} is missing`);
  }
  const kmod = (await import(pathToFileURL(BUILD_SCRIPT).href)) as KmodBuild;
  try {
    const built = await kmod.buildVgpuvm({ kernelVersion: kernelRelease, log });
    const smoke = await kmod.buildTool('smoke', { log });
    const replay = await kmod.buildTool('replay', { log });
    return { module: built.module, smoke, replay, modules: [...built.dependencies, built.module] };
  } catch (err) {
    throw new VmError('ERR_VM_MODULE', `cannot build vgpuvm for Linux ${kernelRelease}: ${(err as Error).message}`, { cause: err });
  }
}
