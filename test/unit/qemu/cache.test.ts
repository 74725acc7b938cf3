// SPDX-License-Identifier: MIT
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildDirAtomically, cacheRoot, cacheStatus, formatBytes, formatCacheStatus, guestRootsDir, kernelDir, writeFileAtomically, type KernelRecord,
} from '../../../lib/qemu/cache.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'vm-cache-test-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const record: KernelRecord = { suite: 'sid', release: '7.2.13+deb14-amd64', packageVersion: '7.2.13-1', packages: ['linux-binary-7.2.13+deb14-amd64=7.2.13-1'], fetchedAt: '2026-11-25T00:00:00.000Z' };

describe('cache location', () => {
  it('lives under $XDG_CACHE_HOME when it is absolute, else under ~/.cache', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/drm-gpuvm/vm');
    expect(cacheRoot({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.cache/drm-gpuvm/vm');
    expect(cacheRoot({ HOME: '/home/u' })).toBe('/home/u/.cache/drm-gpuvm/vm');
  });
});

describe('atomic entries', () => {
  it('makes the entry appear only once it is complete', async () => {
    const dir = kernelDir(root, 'sid');
    await buildDirAtomically(dir, async (temp) => {
      writeFileSync(join(temp, 'a'), '1');
      expect(existsSync(dir)).toBe(false);
    });
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('1');
  });

  it('leaves nothing behind when the build fails', async () => {
    const dir = kernelDir(root, 'sid');
    await expect(buildDirAtomically(dir, async (temp) => {
      writeFileSync(join(temp, 'half'), 'x');
      throw new Error('download failed');
    })).rejects.toThrow('download failed');
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(root, 'kernels'))).toEqual([]);
  });

  it('keeps the first finished copy when two builds race', async () => {
    const dir = kernelDir(root, 'sid');
    await buildDirAtomically(dir, async (temp) => writeFileSync(join(temp, 'who'), 'first'));
    await buildDirAtomically(dir, async (temp) => writeFileSync(join(temp, 'who'), 'second'));
    expect(readFileSync(join(dir, 'who'), 'utf8')).toBe('first');
    expect(readdirSync(join(root, 'kernels'))).toEqual(['sid']);
  });

  it('replaces a file in one step', () => {
    const file = join(root, 'initramfs', 'x.cpio');
    writeFileAtomically(file, 'one');
    writeFileAtomically(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'initramfs'))).toEqual(['x.cpio']);
  });
});

describe('cache status', () => {
  it('reports an absent cache as empty', () => {
    expect(cacheStatus(join(root, 'none'))).toEqual({ root: join(root, 'none'), kernels: [], initramfs: { count: 0, bytes: 0 }, vmlinux: { count: 0, bytes: 0 }, roots: { count: 0, bytes: 0 }, totalBytes: 0 });
  });

  it('lists cached kernels with their versions and sizes, and ignores unfinished entries', async () => {
    await buildDirAtomically(kernelDir(root, 'sid'), async (temp) => {
      writeFileSync(join(temp, 'kernel.json'), JSON.stringify(record));
      writeFileSync(join(temp, 'vmlinuz'), Buffer.alloc(1000));
    });
    mkdirSync(join(root, 'kernels', '.tmp-bookworm-abc'));
    writeFileAtomically(join(root, 'initramfs', 'k.cpio'), Buffer.alloc(24));
    writeFileAtomically(join(root, 'vmlinux', 'k.elf'), Buffer.alloc(100));
    const status = cacheStatus(root);
    expect(status.kernels).toHaveLength(1);
    expect(status.kernels[0]).toMatchObject({ ...record, path: kernelDir(root, 'sid') });
    expect(status.kernels[0]!.bytes).toBe(1000 + JSON.stringify(record).length);
    expect(status.initramfs).toEqual({ count: 1, bytes: 24 });
    expect(status.vmlinux).toEqual({ count: 1, bytes: 100 });
    expect(status.totalBytes).toBe(status.kernels[0]!.bytes + 24 + 100);
    expect(formatCacheStatus(status)).toContain('kernel sid: Linux 7.2.13+deb14-amd64 (Debian 7.2.13-1)');
  });

  it('keeps arm64 kernels apart from x64 ones, says which is which, and counts arm64 userland roots', async () => {
    const arm = { ...record, arch: 'arm64', release: '7.2.13+deb14-arm64' };
    const dir = kernelDir(root, 'sid', 'arm64');
    expect(dir).not.toBe(kernelDir(root, 'sid'));
    await buildDirAtomically(dir, async (temp) => {
      writeFileSync(join(temp, 'kernel.json'), JSON.stringify(arm));
    });
    writeFileAtomically(join(guestRootsDir(root), 'arm64-sid-1', 'root.json'), Buffer.alloc(10));
    const status = cacheStatus(root);
    expect(status.kernels.find((k) => k.arch === 'arm64')).toMatchObject({ path: dir, release: '7.2.13+deb14-arm64' });
    expect(status.roots).toEqual({ count: 1, bytes: 10 });
    expect(formatCacheStatus(status)).toContain('kernel sid (arm64): Linux 7.2.13+deb14-arm64');
    expect(formatCacheStatus(status)).toContain('arm64 userland roots: 1, 10 B');
  });

  it('formats sizes with binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(130 * 1024 * 1024)).toBe('130.0 MiB');
  });
});
