// SPDX-License-Identifier: MIT
// Implicit fences on a real vgem (inside `drm-gpuvm vm`), mirroring IGT vgem_basic dmabuf-fence and
// dmabuf_sync_file: fence attach, dma-buf poll busy/idle, async idle waits, sync_file export and info,
// CPU-access brackets, and the errors of the fence ioctls.
import { describe, expect, it } from 'vitest';
import { attachVgemFence, DrmDevice } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('drm-fence (vgem)', vgem);
const cardPath = vgem.ready ? vgem.card : undefined;

const PAGE = 4096;

/** A vgem device, a one-page buffer and its dma-buf, closed together. */
function setup() {
  const device = DrmDevice.open(cardPath ?? '');
  const buffer = device.createBuffer(PAGE);
  const dmaBuf = buffer.exportDmaBuf();
  return {
    device, buffer, dmaBuf,
    [Symbol.dispose]() {
      dmaBuf.close();
      buffer.close();
      device.close();
    },
  };
}

describe.skipIf(cardPath === undefined)('vgem fences', () => {
  it('leaves a buffer without fences idle for reading and writing', () => {
    using s = setup();
    expect([s.dmaBuf.isIdle('read'), s.dmaBuf.isIdle('write')]).toEqual([true, true]);
  });

  it('makes a read fence block writers only', () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer);
    expect([s.dmaBuf.isIdle('read'), s.dmaBuf.isIdle('write')]).toEqual([true, false]);
    fence.signal();
  });

  it('makes a write fence block readers and writers', () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer, { write: true });
    expect([s.dmaBuf.isIdle('read'), s.dmaBuf.isIdle('write')]).toEqual([false, false]);
    fence.signal();
  });

  it('is idle again once the fence is signalled', () => {
    using s = setup();
    attachVgemFence(s.buffer, { write: true }).signal();
    expect([s.dmaBuf.isIdle('read'), s.dmaBuf.isIdle('write')]).toEqual([true, true]);
  });

  it('sees a fence attached before the dma-buf was exported (IGT dmabuf-fence-before)', () => {
    using device = DrmDevice.open(cardPath ?? '');
    using buffer = device.createBuffer(PAGE);
    const fence = attachVgemFence(buffer, { write: true });
    using dmaBuf = buffer.exportDmaBuf();
    expect(dmaBuf.isIdle('read')).toBe(false);
    fence.signal();
    expect(dmaBuf.isIdle('read')).toBe(true);
  });

  it('resolves an idle wait true when the fence is signalled', async () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer, { write: true });
    const wait = s.dmaBuf.waitIdle({ access: 'write', timeoutMs: 8000 });
    setTimeout(() => fence.signal(), 50);
    await expect(wait).resolves.toBe(true);
  });

  it('resolves an idle wait false when the fence outlives the timeout', async () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer, { write: true });
    await expect(s.dmaBuf.waitIdle({ timeoutMs: 50 })).resolves.toBe(false);
    fence.signal();
  });

  it('rejects an idle wait aborted by its signal, and one whose DmaBuf is closed', async () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer, { write: true });
    const controller = new AbortController();
    const aborted = s.dmaBuf.waitIdle({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const orphan = s.dmaBuf.waitIdle();
    s.dmaBuf.close();
    await expect(orphan).rejects.toMatchObject({ code: 'ERR_USE_AFTER_CLOSE' });
    fence.signal();
  });

  it('exports a sync_file holding the vgem fence, active until signalled', async () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer, { write: true });
    using syncFile = s.dmaBuf.exportSyncFile('write');
    const info = syncFile.info();
    expect(info.status).toBe('active');
    expect(info.fences).toEqual([expect.objectContaining({ driver: 'vgem', timeline: 'unbound', status: 'active' })]);
    expect(syncFile.isSignaled()).toBe(false);
    const wait = syncFile.wait({ timeoutMs: 8000 });
    fence.signal();
    await expect(wait).resolves.toBe(true);
    expect(syncFile.info().status).toBe('signaled');
    expect(syncFile.info().fences[0]?.timestampNs).toBeGreaterThan(0n);
  });

  it('exports a snapshot: a fence attached later is not in it (IGT export-before-signal)', () => {
    using s = setup();
    using before = s.dmaBuf.exportSyncFile('write');
    const fence = attachVgemFence(s.buffer, { write: true });
    expect(before.isSignaled()).toBe(true);
    fence.signal();
  });

  it('exports for reading only the writers: a read fence leaves a read sync_file signalled', () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer);
    using forRead = s.dmaBuf.exportSyncFile('read');
    using forWrite = s.dmaBuf.exportSyncFile('write');
    expect([forRead.isSignaled(), forWrite.isSignaled()]).toEqual([true, false]);
    fence.signal();
  });

  it('merges two sync_files into one that waits for both', () => {
    using s = setup();
    using other = s.device.createBuffer(PAGE);
    using otherDmaBuf = other.exportDmaBuf();
    const a = attachVgemFence(s.buffer, { write: true });
    const b = attachVgemFence(other, { write: true });
    using first = s.dmaBuf.exportSyncFile();
    using second = otherDmaBuf.exportSyncFile();
    using merged = first.merge(second);
    expect(merged.info().fences).toHaveLength(2);
    a.signal();
    expect(merged.isSignaled()).toBe(false);
    b.signal();
    expect(merged.isSignaled()).toBe(true);
  });

  it('imports a sync_file as a write fence onto another buffer', () => {
    using s = setup();
    using other = s.device.createBuffer(PAGE);
    using otherDmaBuf = other.exportDmaBuf();
    const fence = attachVgemFence(s.buffer, { write: true });
    using syncFile = s.dmaBuf.exportSyncFile();
    otherDmaBuf.importSyncFile(syncFile, 'write');
    expect(otherDmaBuf.isIdle('read')).toBe(false);
    fence.signal();
    expect(otherDmaBuf.isIdle('read')).toBe(true);
  });

  it('brackets CPU access with DMA_BUF_IOCTL_SYNC once the buffer is idle', () => {
    using s = setup();
    using mapping = s.dmaBuf.map();
    s.dmaBuf.beginCpuAccess('write');
    mapping.bytes[0] = 1;
    s.dmaBuf.endCpuAccess('write');
    expect(mapping.bytes[0]).toBe(1);
  });

  it('refuses a write fence while a read fence is pending with EBUSY (IGT busy-fence)', () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer);
    expect(() => attachVgemFence(s.buffer, { write: true })).toThrow(expect.objectContaining({ code: 'EBUSY', ioctl: 'DRM_IOCTL_VGEM_FENCE_ATTACH' }));
    fence.signal();
  });

  it('refuses to signal an unknown fence with ENOENT (IGT bad-fence)', () => {
    using s = setup();
    expect(() => native().vgemFenceSignal(s.device.fd, 0xff)).toThrow(expect.objectContaining({ errno: 2, ioctl: 'DRM_IOCTL_VGEM_FENCE_SIGNAL' }));
  });

  it('refuses a fence on an unknown handle with ENOENT (IGT bad-handle)', () => {
    using s = setup();
    expect(() => native().vgemFenceAttach(s.device.fd, 0xff, false)).toThrow(expect.objectContaining({ errno: 2 }));
  });

  it('refuses to signal a fence twice with ENOENT', () => {
    using s = setup();
    const fence = attachVgemFence(s.buffer);
    fence.signal();
    expect(() => fence.signal()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('signals the fences of a DRM file when it closes', () => {
    const device = DrmDevice.open(cardPath ?? '');
    const buffer = device.createBuffer(PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    attachVgemFence(buffer, { write: true });
    expect(dmaBuf.isIdle('write')).toBe(false);
    buffer.close();
    device.close();
    expect(dmaBuf.isIdle('write')).toBe(true);
  });
});
