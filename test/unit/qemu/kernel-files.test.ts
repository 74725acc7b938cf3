// SPDX-License-Identifier: MIT
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dlstatusPercent, parseDepends, printedUrisBytes, suiteSources } from '../../../lib/qemu/apt.js';
import { isStaticElf } from '../../../lib/qemu/initramfs.js';
import { locateKernel } from '../../../lib/qemu/kernel-layout.js';
import { bzImagePayload, hasPvhNote } from '../../../lib/qemu/vmlinux.js';
import { elfWithSections } from './elf-fixture.js';

describe('Debian package metadata', () => {
  it('splits a Depends field into names with their alternatives, versions dropped', () => {
    expect(parseDepends('linux-base-amd64 (= 7.2.13-1), linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)')).toEqual([
      ['linux-base-amd64'], ['linux-image-7.2.13+deb14-amd64'],
    ]);
    expect(parseDepends('dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, kmod:any')).toEqual([
      ['dracut', 'initramfs-tools', 'linux-initramfs-tool'], ['kmod'],
    ]);
  });

  it('fetches bookworm with its security and updates pockets (the newest 6.1 is there), sid alone', () => {
    expect(suiteSources('bookworm').map((l) => l.split(' ').slice(-2)[0])).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    expect(suiteSources('sid')).toHaveLength(1);
    expect(suiteSources('sid')[0]).toMatch(/^deb \[signed-by=\/usr\/share\/keyrings\/debian-archive-keyring.gpg\] \S+ sid main$/);
  });

  it('sizes a download from apt-get --print-uris, and reads the share done from its status fd', () => {
    const uris = [
      "'http://deb.debian.org/debian/pool/main/l/linux-signed-amd64/linux-binary-7.2.13+deb14-amd64_7.2.13-1_amd64.deb' linux-binary-7.2.13+deb14-amd64_7.2.13-1_amd64.deb 11052940 SHA256:14d2",
      "'http://deb.debian.org/debian/pool/main/l/linux/linux-modules-7.2.13%2bdeb14-amd64_7.2.13-1_amd64.deb' linux-modules-7.2.13+deb14-amd64_7.2.13-1_amd64.deb 70591024 SHA256:3d3f",
      '',
    ].join('\n');
    expect(printedUrisBytes(uris)).toBe(11052940 + 70591024);
    expect(printedUrisBytes('Reading package lists...\n')).toBe(0);
    expect(dlstatusPercent('dlstatus:1:45.1230:Retrieving file 1 of 2')).toBe(45.123);
    expect(dlstatusPercent('dlstatus:2:100.0000:Retrieving file 2 of 2')).toBe(100);
    expect(dlstatusPercent('pmstatus:dpkg-exec:0:Running dpkg')).toBeUndefined();
    expect(dlstatusPercent('dlstatus:1:x:garbled')).toBeUndefined();
  });
});

describe('kernel layout', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kernel-layout-test-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const touch = (path: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
  };

  it('finds a 6.1-style package: boot/vmlinuz-R and lib/modules/R', () => {
    touch('boot/vmlinuz-6.1.0-56-amd64');
    mkdirSync(join(root, 'lib/modules/6.1.0-56-amd64/kernel'), { recursive: true });
    expect(locateKernel(root)).toEqual({ vmlinuz: join(root, 'boot/vmlinuz-6.1.0-56-amd64'), modulesDir: join(root, 'lib/modules/6.1.0-56-amd64'), release: '6.1.0-56-amd64' });
  });

  it('finds a 7.x-style package: usr/lib/modules/R with vmlinuz inside', () => {
    touch('usr/lib/modules/7.2.13+deb14-amd64/vmlinuz');
    mkdirSync(join(root, 'usr/lib/modules/7.2.13+deb14-amd64/kernel'), { recursive: true });
    expect(locateKernel(root).vmlinuz).toBe(join(root, 'usr/lib/modules/7.2.13+deb14-amd64/vmlinuz'));
  });

  it('accepts a modules directory itself', () => {
    touch('7.0.0-test/vmlinuz');
    touch('7.0.0-test/modules.order');
    expect(locateKernel(join(root, '7.0.0-test')).release).toBe('7.0.0-test');
  });

  it.each([
    ['no modules tree', () => touch('boot/vmlinuz-x')],
    ['no kernel image', () => mkdirSync(join(root, 'lib/modules/6.1.0-x/kernel'), { recursive: true })],
    ['several modules trees', () => {
      mkdirSync(join(root, 'lib/modules/a/kernel'), { recursive: true });
      mkdirSync(join(root, 'lib/modules/b/kernel'), { recursive: true });
    }],
  ])('explains a directory with %s', (text, setup) => {
    setup();
    expect(() => locateKernel(root)).toThrow(expect.objectContaining({ code: 'ERR_QEMU_KERNEL', message: expect.stringContaining(text) }));
  });
});

describe('ELF checks', () => {
  const PT_INTERP = 3;
  const PT_NOTE = 4;

  it('tells a static executable from one with a program interpreter', () => {
    expect(isStaticElf(elfWithSections([], [{ type: 1 }]))).toBe(true);
    expect(isStaticElf(elfWithSections([], [{ type: 1 }, { type: PT_INTERP }]))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'.padEnd(80)))).toBe(false);
  });

  it('finds the Xen PHYS32_ENTRY note that makes a vmlinux PVH-bootable', () => {
    const note = (name: string, type: number) => {
      const n = Buffer.from(`${name}\0`);
      const h = Buffer.alloc(12);
      h.writeUInt32LE(n.length, 0);
      h.writeUInt32LE(4, 4);
      h.writeUInt32LE(type, 8);
      return Buffer.concat([h, n, Buffer.alloc((4 - (n.length % 4)) % 4), Buffer.alloc(4)]);
    };
    const notes = Buffer.concat([note('GNU', 3), note('Xen', 18)]);
    // The notes section comes right after the ELF header and the one program header.
    const withNotes = (data: Buffer) => elfWithSections([{ name: '.notes', data }], [{ type: PT_NOTE, offset: 64 + 56, size: data.length }]);
    expect(hasPvhNote(withNotes(notes))).toBe(true);
    expect(hasPvhNote(withNotes(note('Xen', 17)))).toBe(false);
  });

  it('finds the compressed payload of a bzImage through its setup header', () => {
    const image = Buffer.alloc(5 * 512 + 64);
    image.write('HdrS', 0x202, 'latin1');
    image[0x1f1] = 4;
    image.writeUInt32LE(16, 0x248);
    image.writeUInt32LE(8, 0x24c);
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]).copy(image, 5 * 512 + 16);
    expect(bzImagePayload(image)).toEqual({ format: 'zstd', data: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]) });
    expect(bzImagePayload(Buffer.alloc(1024))).toBeUndefined();
  });
});
