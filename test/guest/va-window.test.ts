// SPDX-License-Identifier: MIT
// The VA window backend on a real vgem (inside `drm-gpuvm vm`, both kernels). The backend probes how to
// give BOs memory; this suite checks the probe against the kernel it runs on (Linux 7.2 has udmabuf, 6.1
// does not; vgem itself maps sub-ranges from the wrong page on both) and then runs the same random
// sequences and fault injection as the software-device suite, with every page checked after every request.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { GemBuffer } from '../../lib/drm/gem-buffer.js';
import { attachVgemFence } from '../../lib/drm/vgem-fence.js';
import { runWindowDemo } from '../../lib/cli/demo-window.js';
import { randomSequence, WindowRig } from '../support/va-window-checks.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const nodes = findVgem();
reportNotRun('va-window (vgem)', nodes);
const hasUdmabuf = existsSync('/dev/udmabuf');

function openVgem(): DrmDevice {
  return DrmDevice.open(nodes.ready ? nodes.card : '');
}

// Generous timeouts: under TCG, Linux 6.1's vgem faults take seconds per sequence.
describe.skipIf(!nodes.ready)('VaWindowBackend on vgem', { timeout: 120_000 }, () => {
  it('probes: udmabuf-backed GEM objects where /dev/udmabuf exists, else GEM buffers mapped from offset 0 only', () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    process.stderr.write(`va-window (vgem): udmabuf ${hasUdmabuf ? 'present' : 'absent'}, plan ${JSON.stringify(r.backend.plan)}\n`);
    if (hasUdmabuf) expect(r.backend.plan).toMatchObject({ kind: 'udmabuf', anyOffset: true });
    else expect(r.backend.plan).toMatchObject({ kind: 'gem-offset-zero', anyOffset: false, reason: expect.stringContaining('offset 0') });
  });

  it('BO memory is a real GEM object of the device: a vgem fence attaches and makes its dma-buf busy', () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    const buffer = r.backend.bufferOf(r.bos[0]!.gem);
    expect(buffer).toBeInstanceOf(GemBuffer);
    const fence = attachVgemFence(buffer as GemBuffer, { write: true });
    using dmaBuf = (buffer as GemBuffer).exportDmaBuf();
    expect(dmaBuf.isIdle('read')).toBe(false);
    fence.signal();
    expect(dmaBuf.isIdle('read')).toBe(true);
  });

  it('maps a BO from offset 0 and splits it with an unmap at its tail, pages right', async () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    await r.map(4, 8, 0, 0);
    await r.unmap(9, 3);
    r.checkAllPages();
  });

  it.skipIf(!hasUdmabuf)('with udmabuf: maps any BO offset and keeps both pieces of a split right', async () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    await r.map(0, 8, 1, 3);
    await r.unmap(2, 2);
    r.checkAllPages();
  });

  it.skipIf(hasUdmabuf)('without udmabuf: refuses a map from BO offset k > 0 with the reason, changing nothing', async () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    const before = r.snapshot();
    await expect(r.map(0, 2, 0, 3)).rejects.toMatchObject({ code: 'ERR_VA_WINDOW_UNSAFE_MAPPING', message: expect.stringContaining('offset 0') });
    expect(r.snapshot()).toEqual(before);
  });

  it.skipIf(hasUdmabuf)('without udmabuf: refuses an unmap that would leave a piece starting mid-BO, changing nothing', async () => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    await r.map(0, 8, 0, 0);
    const before = r.snapshot();
    await expect(r.unmap(2, 2)).rejects.toMatchObject({ code: 'ERR_VA_WINDOW_UNSAFE_MAPPING' });
    expect(r.snapshot()).toEqual(before);
    r.checkAllPages();
  });

  it.each([11, 12])('random map/remap/unmap sequence (seed %i): every page right after every request, keep=1 cases', async (seed) => {
    using device = openVgem();
    using r = new WindowRig(device, 32, 3, 12);
    const counts = await randomSequence(r, seed, 80, false);
    process.stderr.write(`va-window (vgem) seed ${seed}: ${JSON.stringify(counts)}\n`);
    expect(counts.keeps).toBeGreaterThan(0);
    if (hasUdmabuf) expect(counts.refused).toBe(0);
    expect(counts.requests - counts.refused).toBeGreaterThan(30);
  });

  it('fault injection: failing the k-th mmap of a request, for every k, leaves window, tree, pairs and pages as before', async () => {
    using device = openVgem();
    using r = new WindowRig(device, 24, 3, 8);
    const counts = await randomSequence(r, 21, 40, true);
    process.stderr.write(`va-window (vgem) faults: ${JSON.stringify(counts)}\n`);
    expect(counts.injected).toBeGreaterThan(20);
  });

  it('the demo sequence finds no mismatch on vgem', async () => {
    using device = openVgem();
    const result = await runWindowDemo(device, { seed: 5, requests: 60, pages: 32, bos: 3, boPages: 8 });
    process.stderr.write(`va-window (vgem) demo: ${JSON.stringify(result)}\n`);
    expect(result.mismatches).toBe(0);
    expect(result.pagesChecked).toBe(60 * 32);
  });
});
