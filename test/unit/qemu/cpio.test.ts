// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { writeCpio } from '../../../lib/qemu/cpio.js';

// Reads a newc archive back: the fields the kernel uses, per member.
function parse(archive: Buffer) {
  const members: { name: string; mode: number; nlink: number; rdevMajor: number; rdevMinor: number; data: Buffer }[] = [];
  let at = 0;
  for (;;) {
    expect(archive.toString('ascii', at, at + 6)).toBe('070701');
    const field = (i: number) => parseInt(archive.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const nameSize = field(11);
    const fileSize = field(6);
    const name = archive.toString('latin1', at + 110, at + 110 + nameSize - 1);
    const dataStart = at + 110 + nameSize + ((4 - ((110 + nameSize) % 4)) % 4);
    const member = { name, mode: field(1), nlink: field(4), rdevMajor: field(9), rdevMinor: field(10), data: archive.subarray(dataStart, dataStart + fileSize) };
    at = dataStart + fileSize + ((4 - (fileSize % 4)) % 4);
    if (name === 'TRAILER!!!') return { members, end: at };
    members.push(member);
  }
}

describe('newc cpio writer', () => {
  it('writes directories, files, symlinks and character devices with their modes', () => {
    const { members } = parse(writeCpio([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/busybox', data: Buffer.from('ELF!'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ]));
    expect(members.map((m) => [m.name, m.mode.toString(8)])).toEqual([
      ['bin', '40755'], ['bin/busybox', '100755'], ['bin/sh', '120777'], ['dev/console', '20600'],
    ]);
    expect(members[1]!.data.toString()).toBe('ELF!');
    expect(members[2]!.data.toString()).toBe('busybox');
    expect(members[3]).toMatchObject({ rdevMajor: 5, rdevMinor: 1 });
  });

  it('pads names and data of every length to 4 bytes and ends on a 4-byte boundary', () => {
    for (let n = 0; n < 9; n++) {
      const archive = writeCpio([{ type: 'file', path: 'f'.repeat(n + 1), data: Buffer.alloc(n, 0x61) }]);
      const { members, end } = parse(archive);
      expect(members[0]!.data).toEqual(Buffer.alloc(n, 0x61));
      expect(end).toBe(archive.length);
      expect(archive.length % 4).toBe(0);
    }
  });

  it('ends with a TRAILER!!! record, so two archives can be concatenated', () => {
    const archive = writeCpio([]);
    expect(archive.toString('latin1')).toContain('TRAILER!!!');
    expect(parse(archive).members).toEqual([]);
  });

  it('gives the same bytes for the same entries (no times or owners leak in)', () => {
    const entries = [{ type: 'file' as const, path: 'init', data: Buffer.from('#!/bin/sh\n') }];
    expect(writeCpio(entries).equals(writeCpio(entries))).toBe(true);
  });

  it('refuses absolute and empty paths', () => {
    expect(() => writeCpio([{ type: 'dir', path: '/bin' }])).toThrow(TypeError);
    expect(() => writeCpio([{ type: 'dir', path: '' }])).toThrow(TypeError);
  });
});
