// SPDX-License-Identifier: MIT
// Boot speed under TCG: decompressing a bzImage in emulated code costs seconds (xz especially), so the
// runner unpacks the kernel once on the host and boots the ELF vmlinux through its PVH entry point, which
// QEMU's -kernel supports for ELF images that carry the Xen PHYS32_ENTRY note (CONFIG_PVH).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { vmlinuxDir, writeFileAtomically } from './cache.js';
import { findTool, XZ_TOOL, ZSTD_TOOL, type HostTool } from './host-tools.js';

const GZIP_TOOL: HostTool = { name: 'gzip', debianPackage: 'gzip' };

/** Compressed payload of a bzImage, as located by its setup header (Documentation/arch/x86/boot.rst). */
export interface BzImagePayload {
  format: 'xz' | 'zstd' | 'gzip' | 'other';
  data: Buffer;
}

/** Locates the compressed kernel inside a bzImage; undefined when the file is not a bzImage. */
export function bzImagePayload(image: Buffer): BzImagePayload | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const setupSectors = image[0x1f1] === 0 ? 4 : image[0x1f1]!;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const end = start + image.readUInt32LE(0x24c);
  if (end > image.length) return undefined;
  const data = image.subarray(start, end);
  const magic = (bytes: number[]) => bytes.every((b, i) => data[i] === b);
  if (magic([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { format: 'xz', data };
  if (magic([0x28, 0xb5, 0x2f, 0xfd])) return { format: 'zstd', data };
  if (magic([0x1f, 0x8b])) return { format: 'gzip', data };
  return { format: 'other', data };
}

/** True when an ELF kernel carries the PVH entry note (owner "Xen", type 18), so QEMU can boot it directly. */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const PT_NOTE = 4;
  const XEN_ELFNOTE_PHYS32_ENTRY = 18;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== PT_NOTE) continue;
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = Math.min(at + Number(elf.readBigUInt64LE(ph + 32)), elf.length);
    while (at + 12 <= end) {
      const nameSize = elf.readUInt32LE(at);
      const descSize = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + Math.max(0, nameSize - 1));
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + align4(nameSize) + align4(descSize);
    }
  }
  return false;
}

/**
 * Returns the path of an uncompressed, PVH-bootable copy of `vmlinuz` in the cache, making it on first
 * use; undefined when the kernel cannot be booted that way (then the bzImage is booted as it is).
 */
export function uncompressedKernel(vmlinuz: string, cacheRoot: string): string | undefined {
  const st = statSync(vmlinuz);
  const key = createHash('sha256').update(`${vmlinuz}:${st.size}:${st.mtimeMs}:${st.ino}`).digest('hex').slice(0, 24);
  const path = join(vmlinuxDir(cacheRoot), `${key}.elf`);
  const none = `${path}.none`;
  if (existsSync(path)) return path;
  if (existsSync(none)) return undefined;
  const elf = decompress(readFileSync(vmlinuz));
  if (elf === undefined || !hasPvhNote(elf)) {
    writeFileAtomically(none, '');
    return undefined;
  }
  writeFileAtomically(path, elf);
  return path;
}

function decompress(image: Buffer): Buffer | undefined {
  const payload = bzImagePayload(image);
  if (payload === undefined || payload.format === 'other') return undefined;
  const tool = { xz: XZ_TOOL, zstd: ZSTD_TOOL, gzip: GZIP_TOOL }[payload.format];
  if (findTool(tool) === undefined) return undefined;
  // The payload ends with 4 bytes of decompressed size that the decompressors call trailing garbage and
  // exit non-zero for, after writing the whole kernel: judge the output, not the exit status.
  const result = spawnSync(tool.name, ['-dc'], { input: payload.data, maxBuffer: 1 << 30 });
  const out = result.stdout;
  return out !== null && out.length > 64 && out.readUInt32BE(0) === 0x7f454c46 ? out : undefined;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
