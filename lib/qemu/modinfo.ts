// SPDX-License-Identifier: MIT
// Reads a kernel module's .modinfo ELF section (key=value strings separated by NUL bytes), which is where
// modpost records a module's name and the modules it depends on. This replaces depmod for the few modules
// the VM loads: the same facts, without needing kmod on the host.

/** The fields of a module's .modinfo this runner uses. */
export interface ModInfo {
  /** The module's name as the kernel knows it (from `name=`, else undefined on old kernels). */
  name: string | undefined;
  /** Names of the modules it needs loaded first (from `depends=`), in the order modpost wrote them. */
  depends: string[];
}

/** Parses the .modinfo section of an uncompressed x86-64 kernel module (ELF64, little-endian). */
export function readModInfo(elf: Uint8Array, label: string): ModInfo {
  const buf = Buffer.from(elf.buffer, elf.byteOffset, elf.byteLength);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${label}: not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error(`${label}: not a little-endian 64-bit ELF file`);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > buf.length) {
    throw new Error(`${label}: section headers out of bounds`);
  }
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    const offset = Number(buf.readBigUInt64LE(at + 0x18));
    const size = Number(buf.readBigUInt64LE(at + 0x20));
    if (offset + size > buf.length) throw new Error(`${label}: section ${i} out of bounds`);
    return { nameOffset: buf.readUInt32LE(at), offset, size };
  };
  const names = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameStart = names.offset + s.nameOffset;
    const nameEnd = buf.indexOf(0, nameStart);
    if (buf.toString('latin1', nameStart, nameEnd) !== '.modinfo') continue;
    return parseFields(buf.subarray(s.offset, s.offset + s.size));
  }
  throw new Error(`${label}: no .modinfo section (not a kernel module?)`);
}

function parseFields(section: Buffer): ModInfo {
  let name: string | undefined;
  let depends: string[] = [];
  for (const field of section.toString('latin1').split('\0')) {
    const eq = field.indexOf('=');
    if (eq === -1) continue;
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (key === 'name') name = value;
    else if (key === 'depends') depends = value === '' ? [] : value.split(',');
  }
  return { name, depends };
}
