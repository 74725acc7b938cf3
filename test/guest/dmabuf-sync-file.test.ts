// SPDX-License-Identifier: MIT
// IGT's dmabuf_sync_file, the subtests vgem supports, in our own words and through our own API: a dma-buf's
// implicit fences exported as sync_files (DMA_BUF_IOCTL_EXPORT_SYNC_FILE, a snapshot) and sync_files
// imported as new implicit fences (DMA_BUF_IOCTL_IMPORT_SYNC_FILE). IGT's import-* subtests make their
// fences with sw_sync, which Debian's kernels do not build; here the fences come from vgem, exported from a
// second buffer, and the test names say so.
import { describe, expect, it } from 'vitest';
import { attachVgemFence, DrmDevice, type GemBuffer } from '../../lib/drm/index.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('dmabuf_sync_file mirror', vgem);
const card = vgem.ready ? vgem.card : '';

function newBuffer(device: DrmDevice): GemBuffer {
  return device.createDumb({ width: 1024, height: 1, bpp: 32 });
}

describe.skipIf(!vgem.ready)('dmabuf_sync_file', () => {
  describe('export-basic', () => {
    it.each([
      ['read', 'read', true],
      ['read', 'write', false],
      ['write', 'read', false],
      ['write', 'write', false],
    ] as const)('a %s fence makes a %s sync_file signalled=%s, and every sync_file signals with the fence', (fenceKind, access, signalledAtOnce) => {
      using device = DrmDevice.open(card);
      using buffer = newBuffer(device);
      using dmaBuf = buffer.exportDmaBuf();
      const fence = attachVgemFence(buffer, { write: fenceKind === 'write' });
      using syncFile = dmaBuf.exportSyncFile(access);
      expect(syncFile.isSignaled()).toBe(signalledAtOnce);
      fence.signal();
      expect(syncFile.isSignaled()).toBe(true);
    });

    it('a sync_file of a pending vgem fence names it: driver vgem, one active fence', () => {
      using device = DrmDevice.open(card);
      using buffer = newBuffer(device);
      using dmaBuf = buffer.exportDmaBuf();
      const fence = attachVgemFence(buffer, { write: true });
      using syncFile = dmaBuf.exportSyncFile('write');
      const info = syncFile.info();
      expect(info.fences.map((f) => [f.driver, f.status])).toEqual([['vgem', 'active']]);
      fence.signal();
      expect(syncFile.info().fences.map((f) => f.status)).toEqual(['signaled']);
    });
  });

  describe('export-before-signal', () => {
    it('a sync_file exported while the fence is pending stays busy until the fence signals', () => {
      using device = DrmDevice.open(card);
      using buffer = newBuffer(device);
      using dmaBuf = buffer.exportDmaBuf();
      const fence = attachVgemFence(buffer, { write: true });
      using syncFile = dmaBuf.exportSyncFile('write');
      expect(syncFile.isSignaled()).toBe(false);
      expect(syncFile.isSignaled()).toBe(false);
      fence.signal();
      expect(syncFile.isSignaled()).toBe(true);
    });

    it('a sync_file exported before a fence was attached is a snapshot and never sees it', () => {
      using device = DrmDevice.open(card);
      using buffer = newBuffer(device);
      using dmaBuf = buffer.exportDmaBuf();
      using before = dmaBuf.exportSyncFile('write');
      const fence = attachVgemFence(buffer, { write: true });
      expect(before.isSignaled()).toBe(true);
      expect(dmaBuf.isIdle('write')).toBe(false);
      fence.signal();
    });
  });

  it('export-multiwait: a write sync_file waits for both pending readers and ignores a reader attached later', () => {
    using device = DrmDevice.open(card);
    using buffer = newBuffer(device);
    using dmaBuf = buffer.exportDmaBuf();
    const first = attachVgemFence(buffer);
    const second = attachVgemFence(buffer);
    using syncFile = dmaBuf.exportSyncFile('write');
    first.signal();
    expect(syncFile.isSignaled()).toBe(false);
    const third = attachVgemFence(buffer);
    second.signal();
    expect(syncFile.isSignaled()).toBe(true);
    expect(dmaBuf.isIdle('write')).toBe(false);
    third.signal();
  });

  it('export-wait-after-attach: waiting on a sync_file exported after the attach ends only when the fence signals', async () => {
    using device = DrmDevice.open(card);
    using buffer = newBuffer(device);
    using dmaBuf = buffer.exportDmaBuf();
    const fence = attachVgemFence(buffer, { write: true });
    using syncFile = dmaBuf.exportSyncFile('read');
    expect(await syncFile.wait({ timeoutMs: 200 })).toBe(false);
    const waiting = syncFile.wait({ timeoutMs: 5000 });
    fence.signal();
    expect(await waiting).toBe(true);
  });

  describe('import (vgem fences instead of sw_sync)', () => {
    it.each([
      ['read', true],
      ['write', false],
    ] as const)('import-basic: a sync_file imported for %s makes readers idle=%s and writers wait, until it signals', (access, readersIdle) => {
      using device = DrmDevice.open(card);
      using source = newBuffer(device);
      using target = newBuffer(device);
      using sourceDmaBuf = source.exportDmaBuf();
      using targetDmaBuf = target.exportDmaBuf();
      const fence = attachVgemFence(source, { write: true });
      using syncFile = sourceDmaBuf.exportSyncFile('write');
      targetDmaBuf.importSyncFile(syncFile, access);
      expect(targetDmaBuf.isIdle('read')).toBe(readersIdle);
      expect(targetDmaBuf.isIdle('write')).toBe(false);
      fence.signal();
      expect(targetDmaBuf.isIdle('read')).toBe(true);
      expect(targetDmaBuf.isIdle('write')).toBe(true);
    });

    it('import-multiple-read-only: two imported readers keep a write export busy until both signal', () => {
      using device = DrmDevice.open(card);
      using target = newBuffer(device);
      using targetDmaBuf = target.exportDmaBuf();
      const sources = [newBuffer(device), newBuffer(device)];
      const fences = sources.map((b) => attachVgemFence(b, { write: true }));
      for (const b of sources) {
        using d = b.exportDmaBuf();
        using s = d.exportSyncFile('write');
        targetDmaBuf.importSyncFile(s, 'read');
      }
      expect(targetDmaBuf.isIdle('read')).toBe(true);
      using exported = targetDmaBuf.exportSyncFile('write');
      fences[0]!.signal();
      expect(exported.isSignaled()).toBe(false);
      fences[1]!.signal();
      expect(exported.isSignaled()).toBe(true);
      for (const b of sources) b.close();
    });

    it('import-multiple-read-write: readers wait only for the writer imported alongside a reader', () => {
      using device = DrmDevice.open(card);
      using target = newBuffer(device);
      using targetDmaBuf = target.exportDmaBuf();
      const [readerSource, writerSource] = [newBuffer(device), newBuffer(device)];
      const readerFence = attachVgemFence(readerSource, { write: true });
      const writerFence = attachVgemFence(writerSource, { write: true });
      for (const [b, access] of [[readerSource, 'read'], [writerSource, 'write']] as const) {
        using d = b.exportDmaBuf();
        using s = d.exportSyncFile('write');
        targetDmaBuf.importSyncFile(s, access);
      }
      expect(targetDmaBuf.isIdle('read')).toBe(false);
      writerFence.signal();
      expect(targetDmaBuf.isIdle('read')).toBe(true);
      expect(targetDmaBuf.isIdle('write')).toBe(false);
      readerFence.signal();
      expect(targetDmaBuf.isIdle('write')).toBe(true);
      readerSource.close();
      writerSource.close();
    });
  });
});
