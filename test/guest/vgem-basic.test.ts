// SPDX-License-Identifier: MIT
// IGT's vgem_basic, in our own words and through our own API (lib/drm): what the kernel's DRM developers check
// on vgem, checked here on the kernels we ship against. Each test asserts what the IGT subtest asserts; where
// our API or the kernel makes a subtest differ, the test name says how.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachVgemFence, DrmDevice } from '../../lib/drm/index.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('vgem_basic mirror', vgem);
const card = vgem.ready ? vgem.card : '';
const render = vgem.ready ? vgem.render : '';
const MiB = 1024n * 1024n;

// Reads a file, failing the test if it takes a second or more (IGT arms a 1 s alarm per file).
function readWithinOneSecond(path: string): void {
  const started = process.hrtime.bigint();
  try {
    readFileSync(path);
  } catch (err) {
    // Attributes that exist only to be written, or that a device without that feature refuses, are fine:
    // IGT checks that reading never hangs, not that every attribute has a value.
    if (!['EACCES', 'EPERM', 'EIO', 'EINVAL', 'ENODEV', 'EOPNOTSUPP', 'ENOTSUP', 'ENXIO'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  expect(Number(process.hrtime.bigint() - started) / 1e9, path).toBeLessThan(1);
}

function regularFilesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(dir, e.name));
}

describe.skipIf(!vgem.ready)('vgem_basic', () => {
  describe('create', () => {
    it('refuses a 0x0 dumb buffer of 0 bpp with EINVAL', () => {
      using device = DrmDevice.open(card);
      expect(() => device.createDumb({ width: 0, height: 0, bpp: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'ioctl' }));
    });

    it.each([
      [1, 1, 1, 4096n],
      [1024, 1024, 8, 1n * MiB],
      [32768, 32768, 16, 2048n * MiB],
    ])('makes a %ix%i buffer of %i bpp of %i bytes', (width, height, bpp, size) => {
      using device = DrmDevice.open(card);
      using buffer = device.createDumb({ width, height, bpp });
      expect(buffer.size).toBe(size);
    });
  });

  it('mmap: a dumb buffer mapped through the card node is writable and reads back through a second map (IGT also writes after GEM_CLOSE; our API unmaps at close, so JS never reaches that)', () => {
    using device = DrmDevice.open(card);
    using buffer = device.createDumb({ width: 1024, height: 1024, bpp: 32 });
    using writer = buffer.map();
    writer.bytes.fill(0xa5);
    using reader = buffer.map();
    expect(reader.bytes.every((b) => b === 0xa5)).toBe(true);
  });

  it('dmabuf-export: a PRIME export imports into another vgem client, and everything closes', () => {
    using device = DrmDevice.open(card);
    using other = DrmDevice.open(render);
    using buffer = device.createDumb({ width: 1024, height: 1024, bpp: 32 });
    using dmaBuf = buffer.exportDmaBuf();
    using imported = other.importDmaBuf(dmaBuf);
    expect(imported.handle).toBeGreaterThan(0);
    expect(imported.size).toBe(buffer.size);
  });

  it('dmabuf-mmap: a pattern written through the dma-buf mapping reads back through the dumb mapping', () => {
    using device = DrmDevice.open(card);
    using buffer = device.createDumb({ width: 1024, height: 1024, bpp: 32 });
    using dmaBuf = buffer.exportDmaBuf({ writable: true });
    using viaDmaBuf = dmaBuf.map();
    const words = new Uint32Array(viaDmaBuf.arrayBuffer);
    for (let i = 0; i < words.length; i++) words[i] = i * 2654435761;
    using viaDumb = buffer.map();
    const back = new Uint32Array(viaDumb.arrayBuffer);
    expect(back.every((w, i) => w === ((i * 2654435761) >>> 0))).toBe(true);
  });

  describe.each([
    ['dmabuf-fence', 'after'],
    ['dmabuf-fence-before', 'before'],
  ])('%s: fences attached %s the export are seen by poll on the dma-buf', (_name, when) => {
    it('a read fence keeps writers waiting but not readers, until it is signalled', () => {
      using device = DrmDevice.open(card);
      using buffer = device.createDumb({ width: 1024, height: 1, bpp: 32 });
      let fence = when === 'before' ? attachVgemFence(buffer) : undefined;
      using dmaBuf = buffer.exportDmaBuf();
      fence ??= attachVgemFence(buffer);
      expect(dmaBuf.isIdle('read')).toBe(true);
      expect(dmaBuf.isIdle('write')).toBe(false);
      fence.signal();
      expect(dmaBuf.isIdle('read')).toBe(true);
      expect(dmaBuf.isIdle('write')).toBe(true);
    });

    it('a write fence keeps readers and writers waiting, until it is signalled', () => {
      using device = DrmDevice.open(card);
      using buffer = device.createDumb({ width: 1024, height: 1, bpp: 32 });
      let fence = when === 'before' ? attachVgemFence(buffer, { write: true }) : undefined;
      using dmaBuf = buffer.exportDmaBuf();
      fence ??= attachVgemFence(buffer, { write: true });
      expect(dmaBuf.isIdle('read')).toBe(false);
      expect(dmaBuf.isIdle('write')).toBe(false);
      fence.signal();
      expect(dmaBuf.isIdle('read')).toBe(true);
      expect(dmaBuf.isIdle('write')).toBe(true);
    });
  });

  it('busy-fence: a write fence cannot join an unsignalled read fence (EBUSY)', () => {
    using device = DrmDevice.open(card);
    using buffer = device.createDumb({ width: 1024, height: 1, bpp: 32 });
    const read = attachVgemFence(buffer);
    expect(() => attachVgemFence(buffer, { write: true })).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    read.signal();
  });

  describe('setversion', () => {
    const IGT_REQUEST = { interfaceMajor: 1, interfaceMinor: 4, driverMajor: -1, driverMinor: -1 };

    it('setversion: the card node master asks for DRM interface 1.4 and any driver version; the kernel answers interface 1.4 and vgem its own version', () => {
      using device = DrmDevice.open(card);
      expect(device.setVersion(IGT_REQUEST)).toEqual({
        interfaceMajor: 1, interfaceMinor: 4, driverMajor: device.version.major, driverMinor: device.version.minor,
      });
    });

    // Beyond IGT: what the kernel's drm_setversion and its DRM_MASTER flag refuse.
    it('kernel, beyond IGT: a second card client, which is not the master, is refused with EACCES', () => {
      using master = DrmDevice.open(card);
      using second = DrmDevice.open(card);
      expect(() => second.setVersion(IGT_REQUEST)).toThrow(expect.objectContaining({ code: 'EACCES', syscall: 'ioctl', ioctl: 'DRM_IOCTL_SET_VERSION' }));
      expect(master.setVersion(IGT_REQUEST).interfaceMinor).toBe(4);
    });

    it('kernel, beyond IGT: a render node client is refused with EACCES', () => {
      using renderClient = DrmDevice.open(render);
      expect(() => renderClient.setVersion(IGT_REQUEST)).toThrow(expect.objectContaining({ code: 'EACCES', ioctl: 'DRM_IOCTL_SET_VERSION' }));
    });

    it.each([
      ['interface 1.5, newer than the kernel has', { ...IGT_REQUEST, interfaceMinor: 5 }],
      ['interface 2.0', { ...IGT_REQUEST, interfaceMajor: 2, interfaceMinor: 0 }],
      ['interface 1.-1', { ...IGT_REQUEST, interfaceMinor: -1 }],
      ['a driver major other than vgem\'s', { ...IGT_REQUEST, driverMajor: 2, driverMinor: 0 }],
    ])('kernel, beyond IGT: the master asking for %s gets EINVAL', (_name, request) => {
      using device = DrmDevice.open(card);
      expect(() => device.setVersion(request)).toThrow(expect.objectContaining({ code: 'EINVAL', ioctl: 'DRM_IOCTL_SET_VERSION' }));
    });

    it('kernel, beyond IGT: the master may ask for vgem\'s own driver version, and for nothing at all (-1, -1)', () => {
      using device = DrmDevice.open(card);
      const own = { interfaceMajor: -1, interfaceMinor: 0, driverMajor: device.version.major, driverMinor: device.version.minor };
      expect(device.setVersion(own).driverMajor).toBe(device.version.major);
      expect(device.setVersion({ interfaceMajor: -1, interfaceMinor: 0, driverMajor: -1, driverMinor: 0 }).interfaceMajor).toBe(1);
    });

    it('refuses a request that is not four C ints with a typed error of its own, before the kernel sees it', () => {
      using device = DrmDevice.open(card);
      expect(() => device.setVersion({ ...IGT_REQUEST, interfaceMinor: 2 ** 31 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => device.setVersion(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(device.setVersion(IGT_REQUEST).interfaceMajor).toBe(1);
    });
  });

  it('second-client: another card client and a render client open alongside the first', () => {
    using first = DrmDevice.open(card);
    using second = DrmDevice.open(card);
    using renderClient = DrmDevice.open(render);
    expect([first.driver, second.driver, renderClient.driver]).toEqual(['vgem', 'vgem', 'vgem']);
    expect([first.nodeType, second.nodeType, renderClient.nodeType]).toEqual(['card', 'card', 'render']);
  });

  it('sysfs: every file of the device node sysfs directory reads within 1 s', () => {
    using _device = DrmDevice.open(card);
    const { rdev } = statSync(card);
    const dir = realpathSync(`/sys/dev/char/${Math.floor(rdev / 256)}:${rdev % 256}`);
    const files = regularFilesIn(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) readWithinOneSecond(file);
  });

  it.skipIf(process.getuid?.() !== 0)('debugfs: every file of the device debugfs directory reads within 1 s', () => {
    using _device = DrmDevice.open(card);
    const minor = statSync(card).rdev % 256;
    const dir = `/sys/kernel/debug/dri/${minor}`;
    expect(existsSync(dir), `${dir} (debugfs is mounted by drm-gpuvm vm)`).toBe(true);
    const files = regularFilesIn(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) readWithinOneSecond(file);
  });
});

// Unloading needs root and a busybox (the host's busybox-static, which the VM runner requires) for rmmod.
const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
const vgemKo = '/tmp/drm-gpuvm-vm/modules/vgem.ko';
const canUnload = vgem.ready && process.getuid?.() === 0 && busybox !== undefined && existsSync(vgemKo);
if (vgem.ready && !canUnload) process.stderr.write(`vgem_basic unload: NOT RUN (skipped, not passed): needs root, busybox and ${vgemKo} (drm-gpuvm vm provides them)\n`);

function rmmodVgem(): boolean {
  return spawnSync(busybox!, ['rmmod', 'vgem']).status === 0;
}

describe.skipIf(!canUnload)('vgem_basic unload', () => {
  it('unload: vgem is pinned by an open fd and by an exported dma-buf, unloads once both are closed, and loads again (IGT also pins it with a mapping that outlives its fd; our API unmaps at close)', () => {
    try {
      const device = DrmDevice.open(card);
      expect(rmmodVgem()).toBe(false);
      const buffer = device.createDumb({ width: 1024, height: 1, bpp: 32 });
      const dmaBuf = buffer.exportDmaBuf();
      buffer.close();
      device.close();
      expect(rmmodVgem()).toBe(false);
      dmaBuf.close();
      expect(rmmodVgem()).toBe(true);
      expect(existsSync(card)).toBe(false);
    } finally {
      if (!existsSync(card)) execFileSync(busybox!, ['insmod', vgemKo]);
    }
    using again = DrmDevice.open(card);
    expect(again.driver).toBe('vgem');
  });
});
