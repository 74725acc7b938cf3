// SPDX-License-Identifier: MIT
// The guest's initramfs: busybox, /init, the modules in load order, and the few nodes the kernel needs
// before devtmpfs is mounted. Extra modules travel as a second archive appended to the first.
import { writeCpio, type CpioEntry } from './cpio.js';
import { INIT_SCRIPT, MODULE_LISTS } from './guest-init.js';
import type { ResolvedModule } from './kernel-modules.js';

/** The modules of the base initramfs: the 9p transport first, then the DRM device. */
export interface BaseModules {
  transport: readonly ResolvedModule[];
  device: readonly ResolvedModule[];
}

/** Builds the base initramfs from a static busybox binary and the resolved modules. */
export function buildInitramfs(busybox: Uint8Array, modules: BaseModules): Buffer {
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'etc', 'etc/drm-gpuvm', 'host', 'lib', 'lib/modules', 'proc', 'run', 'sys', 'tmp'].map(
      (path): CpioEntry => ({ type: 'dir', path }),
    ),
    // The kernel opens /dev/console for init's stdio before init can mount devtmpfs.
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'file', path: 'init', data: Buffer.from(INIT_SCRIPT), mode: 0o755 },
    ...moduleEntries(MODULE_LISTS.transport, modules.transport),
    ...moduleEntries(MODULE_LISTS.device, modules.device),
  ];
  return writeCpio(entries);
}

/** Builds the archive that adds extra modules; the guest loads them after the base ones. */
export function buildExtraModulesLayer(extra: readonly ResolvedModule[]): Buffer {
  return writeCpio(moduleEntries(MODULE_LISTS.extra, extra));
}

function moduleEntries(listPath: string, modules: readonly ResolvedModule[]): CpioEntry[] {
  return [
    ...modules.map((m): CpioEntry => ({ type: 'file', path: `lib/modules/${m.name}.ko`, data: m.data })),
    { type: 'file', path: listPath, data: Buffer.from(modules.map((m) => `${m.name}\n`).join('')) },
  ];
}

/** True when an ELF executable has no program interpreter, i.e. runs without the host's libraries. */
export function isStaticElf(elf: Uint8Array): boolean {
  const buf = Buffer.from(elf.buffer, elf.byteOffset, elf.byteLength);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2) return false;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > buf.length) return false;
    if (buf.readUInt32LE(at) === PT_INTERP) return false;
  }
  return true;
}
