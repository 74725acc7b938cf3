// SPDX-License-Identifier: MIT
// The kernel and initramfs a run boots: the kernel from the cache (or the user's path), the base initramfs
// built once per (init script, busybox, modules tree) and cached, extra modules as a per-run layer.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initramfsDir, writeFileAtomically } from './cache.js';
import { debianKernel, type PreparedKernel } from './debian-kernel.js';
import { INIT_SCRIPT } from './guest-init.js';
import { requireTools, XZ_TOOL, ZSTD_TOOL } from './host-tools.js';
import { buildExtraModulesLayer, buildInitramfs } from './initramfs.js';
import { locateKernel } from './kernel-layout.js';
import { indexModules, readModuleFile, resolveModules, type ModuleIndex, type ModuleRequest } from './kernel-modules.js';
import type { StepLog } from './step-log.js';
import type { KernelChoice, VmArch } from './vm-args.js';

/**
 * Modules every guest loads. The transport (virtio PCI and 9p, and overlayfs) comes first because the run directory is a
 * 9p share; virtio_pci is built into newer Debian kernels, hence "may be built in". vgem is the device; the
 * guest checks that a /dev/dri/card* node appears, whether vgem was a module or built in.
 */
export const TRANSPORT_MODULES: readonly ModuleRequest[] = [
  { module: 'virtio_pci', mayBeBuiltIn: true },
  { module: '9pnet_virtio', mayBeBuiltIn: true },
  { module: '9p', mayBeBuiltIn: true },
  // The guest's /tmp layers a writable tmpfs over the host's /tmp (see guest-init.ts).
  { module: 'overlay', mayBeBuiltIn: true },
];
/** The DRM device under test. */
export const DEVICE_MODULES: readonly ModuleRequest[] = [{ module: 'vgem', mayBeBuiltIn: true }];

// Bumped whenever what goes into the image changes in a way the other key parts do not show.
const IMAGE_FORMAT = 2;

/** Returns the kernel to boot for a choice on `arch`, fetching a Debian suite's kernel on first use. */
export async function prepareKernel(choice: KernelChoice, arch: VmArch, cacheRoot: string, log: StepLog): Promise<PreparedKernel> {
  if (choice.kind === 'debian') return debianKernel(choice.suite, arch, cacheRoot, log);
  const files = locateKernel(choice.path);
  return { ...files, label: `${choice.path} (Linux ${files.release})`, arch };
}

/** The base initramfs of a kernel: path of the cached image and the names of the modules it loads. */
export interface BaseInitramfs {
  path: string;
  modules: ReadonlySet<string>;
}

/** Returns the cached base initramfs for this kernel and busybox, building it if needed. */
export function baseInitramfs(kernel: PreparedKernel, busyboxPath: string, cacheRoot: string, log: (line: string) => void): BaseInitramfs {
  const key = createHash('sha256')
    .update(`format ${IMAGE_FORMAT}\n`)
    .update(INIT_SCRIPT)
    .update(JSON.stringify([TRANSPORT_MODULES, DEVICE_MODULES, identity(busyboxPath), identity(kernel.modulesDir), kernel.modulesDir]))
    .digest('hex')
    .slice(0, 24);
  const path = join(initramfsDir(cacheRoot), `${kernel.release}-${key}.cpio`);
  const manifest = `${path}.modules`;
  try {
    const names = readFileSync(manifest, 'utf8').split('\n').filter((n) => n !== '');
    statSync(path);
    return { path, modules: new Set(names) };
  } catch {
    // Not built yet for this combination.
  }
  log(`drm-gpuvm vm: building the initramfs for Linux ${kernel.release}`);
  const index = indexModules(kernel.modulesDir);
  const transport = resolveModules(TRANSPORT_MODULES, index, new Set(), readModule);
  const device = resolveModules(DEVICE_MODULES, index, new Set(transport.map((m) => m.name)), readModule);
  const image = buildInitramfs(readFileSync(busyboxPath), { transport, device });
  const names = [...transport, ...device].map((m) => m.name);
  // The image first, the manifest last: a manifest present means its image is complete.
  writeFileAtomically(path, image);
  writeFileAtomically(manifest, names.join('\n') + '\n');
  return { path, modules: new Set(names) };
}

/** Builds the per-run layer with `extraModules` (in-tree names or .ko paths) not already in the base image. */
export function extraModulesLayer(kernel: PreparedKernel, base: BaseInitramfs, extraModules: readonly string[]): Buffer {
  const index: ModuleIndex = indexModules(kernel.modulesDir);
  const requests = extraModules.map((module): ModuleRequest => ({ module, mayBeBuiltIn: false }));
  return buildExtraModulesLayer(resolveModules(requests, index, base.modules, readModule));
}

function readModule(path: string): Buffer {
  if (path.endsWith('.xz')) requireTools([XZ_TOOL], () => undefined);
  if (path.endsWith('.zst')) requireTools([ZSTD_TOOL], () => undefined);
  return readModuleFile(path);
}

function identity(path: string): string {
  const st = statSync(path);
  return `${path}:${st.size}:${st.mtimeMs}:${st.ino}`;
}
