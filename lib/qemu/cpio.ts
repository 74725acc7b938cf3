// SPDX-License-Identifier: MIT
// A writer for the "newc" cpio format the kernel unpacks as an initramfs (see the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than shelling out to
// cpio(1) so that device nodes such as /dev/console can be described without root and without mknod.

/** One member of an initramfs archive. Paths are relative, without a leading slash. */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const HEADER_BYTES = 110;

/**
 * Serialises entries, in order, into one newc archive ending with the TRAILER!!! record. Owners are root
 * and times are 0, so the same entries always give the same bytes. The total length is a multiple of 4, so
 * archives can be concatenated (the kernel unpacks each in turn).
 */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    if (entry.path === '' || entry.path.startsWith('/')) throw new TypeError(`cpio path must be relative: '${entry.path}'`);
    let mode: number;
    let data: Uint8Array = new Uint8Array(0);
    let rdevMajor = 0;
    let rdevMinor = 0;
    switch (entry.type) {
      case 'dir':
        mode = S_IFDIR | (entry.mode ?? 0o755);
        break;
      case 'file':
        mode = S_IFREG | (entry.mode ?? 0o644);
        data = entry.data;
        break;
      case 'symlink':
        mode = S_IFLNK | 0o777;
        data = Buffer.from(entry.target);
        break;
      case 'chardev':
        mode = S_IFCHR | (entry.mode ?? 0o600);
        rdevMajor = entry.major;
        rdevMinor = entry.minor;
        break;
    }
    chunks.push(record(ino++, mode, entry.type === 'dir' ? 2 : 1, entry.path, data, rdevMajor, rdevMinor));
  }
  chunks.push(record(0, 0, 1, 'TRAILER!!!', new Uint8Array(0), 0, 0));
  return Buffer.concat(chunks);
}

function record(ino: number, mode: number, nlink: number, name: string, data: Uint8Array, rdevMajor: number, rdevMinor: number): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
  const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'ascii');
  // Both the name (counted from the start of the header) and the data are padded to 4 bytes.
  return Buffer.concat([header, nameBytes, zeros(pad4(HEADER_BYTES + nameBytes.length)), data, zeros(pad4(data.length))]);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}
