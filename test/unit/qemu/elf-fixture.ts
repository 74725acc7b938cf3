// SPDX-License-Identifier: MIT
// Minimal ELF64 little-endian images for tests: named sections, and optionally program headers.

/** A section to place in the image. */
export interface FixtureSection {
  name: string;
  data: Buffer;
}

/** Builds an ELF64 file with the given sections (plus the null section and .shstrtab) and program headers. */
export function elfWithSections(sections: FixtureSection[], programHeaders: { type: number; offset?: number; size?: number }[] = []): Buffer {
  const names = Buffer.concat([Buffer.from('\0'), ...[...sections.map((s) => s.name), '.shstrtab'].map((n) => Buffer.from(`${n}\0`))]);
  const header = Buffer.alloc(64);
  const phoff = 64;
  const phBytes = programHeaders.length * 56;
  let cursor = phoff + phBytes;
  const bodies: { offset: number; data: Buffer; nameOffset: number }[] = [];
  let nameOffset = 1;
  for (const s of [...sections, { name: '.shstrtab', data: names }]) {
    bodies.push({ offset: cursor, data: s.data, nameOffset });
    cursor += s.data.length;
    nameOffset += Buffer.byteLength(s.name) + 1;
  }
  const shoff = cursor;
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header[6] = 1;
  header.writeBigUInt64LE(programHeaders.length > 0 ? BigInt(phoff) : 0n, 0x20);
  header.writeBigUInt64LE(BigInt(shoff), 0x28);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(programHeaders.length, 0x38);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(bodies.length + 1, 0x3c);
  header.writeUInt16LE(bodies.length, 0x3e); // .shstrtab is last
  const phs = programHeaders.map((p) => {
    const ph = Buffer.alloc(56);
    ph.writeUInt32LE(p.type, 0);
    ph.writeBigUInt64LE(BigInt(p.offset ?? 0), 8);
    ph.writeBigUInt64LE(BigInt(p.size ?? 0), 32);
    return ph;
  });
  const shs = [Buffer.alloc(64), ...bodies.map((b) => {
    const sh = Buffer.alloc(64);
    sh.writeUInt32LE(b.nameOffset, 0);
    sh.writeBigUInt64LE(BigInt(b.offset), 0x18);
    sh.writeBigUInt64LE(BigInt(b.data.length), 0x20);
    return sh;
  })];
  return Buffer.concat([header, ...phs, ...bodies.map((b) => b.data), ...shs]);
}

/** A fake kernel module whose .modinfo says `name` and `depends`. */
export function fakeModule(name: string, depends: string[]): Buffer {
  const modinfo = Buffer.from(`license=GPL\0depends=${depends.join(',')}\0name=${name}\0vermagic=test\0`);
  return elfWithSections([{ name: '.text', data: Buffer.alloc(16) }, { name: '.modinfo', data: modinfo }]);
}
