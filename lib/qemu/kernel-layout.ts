// SPDX-License-Identifier: MIT
// Where the kernel image and the modules tree are inside an extracted kernel package or a user's directory.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VmRunnerError } from './errors.js';

/** A bootable kernel: its image, its modules tree, its release (`uname -r`). */
export interface KernelFiles {
  vmlinuz: string;
  modulesDir: string;
  release: string;
}

/**
 * Finds the kernel in `root`, which may be an extracted Debian package (boot/vmlinuz-R and lib/modules/R,
 * or usr/lib/modules/R/vmlinuz as Debian ships it since 7.x), or a modules directory R itself with a vmlinuz
 * inside. Exactly one modules tree must be there.
 */
export function locateKernel(root: string): KernelFiles {
  if (!isDir(root)) throw new VmRunnerError('ERR_QEMU_KERNEL', `kernel path ${root} is not a directory`);
  const trees = isModulesTree(root)
    ? [root]
    : ['lib/modules', 'usr/lib/modules'].flatMap((sub) => listDirs(join(root, sub))).filter(isModulesTree);
  if (trees.length === 0) {
    throw new VmRunnerError('ERR_QEMU_KERNEL', `no modules tree in ${root}: expected lib/modules/RELEASE (with kernel/ inside) or usr/lib/modules/RELEASE`);
  }
  if (trees.length > 1) throw new VmRunnerError('ERR_QEMU_KERNEL', `several modules trees in ${root}: ${trees.join(', ')}; point --kernel at one`);
  const modulesDir = trees[0]!;
  const release = basename(modulesDir);
  const images = [join(modulesDir, 'vmlinuz'), join(root, 'boot', `vmlinuz-${release}`), join(root, 'vmlinuz'), join(root, 'boot', 'vmlinuz')];
  const vmlinuz = images.find((p) => existsSync(p) && !isDir(p));
  if (vmlinuz === undefined) throw new VmRunnerError('ERR_QEMU_KERNEL', `no kernel image for ${release}: looked for ${images.join(', ')}`);
  return { vmlinuz, modulesDir, release };
}

function isModulesTree(dir: string): boolean {
  return isDir(join(dir, 'kernel')) || existsSync(join(dir, 'modules.order'));
}

function isDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}
