// SPDX-License-Identifier: MIT
// Waits on vgem that look at the fd before their timeout can win, and CPU access that does not block the
// event loop: timeout 0 on an idle dma-buf and on a signalled sync_file is a
// truthful non-blocking check (both used to resolve false), and beginCpuAccessAsync lets timers run while a
// fence is pending, where beginCpuAccess blocks the thread until the fence signals.
import { describe, expect, it } from 'vitest';
import { attachVgemFence, DrmDevice } from '../../lib/drm/index.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('truthful waits', vgem);
const card = vgem.ready ? vgem.card : '';

describe.skipIf(!vgem.ready)('truthful waits on vgem', () => {
  it.each([0, 0.5, 1])('waitIdle({ timeoutMs: %s }) on an idle dma-buf resolves true, every time', async (timeoutMs) => {
    using device = DrmDevice.open(card);
    using buffer = device.createBuffer(4096);
    using dmaBuf = buffer.exportDmaBuf();
    const results = await Promise.all(Array.from({ length: 10 }, () => dmaBuf.waitIdle({ timeoutMs })));
    expect(results).toEqual(Array.from({ length: 10 }, () => true));
  });

  it('wait({ timeoutMs: 0 }) on a signalled sync_file resolves true, and on a pending one false', async () => {
    using device = DrmDevice.open(card);
    using buffer = device.createBuffer(4096);
    using dmaBuf = buffer.exportDmaBuf();
    const fence = attachVgemFence(buffer, { write: true });
    using pending = dmaBuf.exportSyncFile('write');
    expect(await pending.wait({ timeoutMs: 0 })).toBe(false);
    fence.signal();
    expect(await pending.wait({ timeoutMs: 0 })).toBe(true);
  });

  it('beginCpuAccessAsync waits for a pending fence on the event loop, then begins access', async () => {
    using device = DrmDevice.open(card);
    using buffer = device.createBuffer(4096);
    using dmaBuf = buffer.exportDmaBuf();
    const fence = attachVgemFence(buffer, { write: true });
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
      fence.signal();
    }, 50);
    expect(await dmaBuf.beginCpuAccessAsync('read')).toBe(true);
    expect(timerRan).toBe(true);
    dmaBuf.endCpuAccess('read');
    const again = attachVgemFence(buffer, { write: true });
    expect(await dmaBuf.beginCpuAccessAsync('write', { timeoutMs: 20 })).toBe(false);
    again.signal();
  });
});
