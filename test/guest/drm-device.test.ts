// SPDX-License-Identifier: MIT
// The device layer against a real vgem (inside `drm-gpuvm vm`): discovery, VERSION and caps, dumb buffers
// on the card node, PRIME to the render node, mmap through both, GEM close, the errors the kernel gives,
// the sub-range dma-buf mmap probe, and the bad-input table for DrmDevice methods.
import { describe, expect, it } from 'vitest';
import {
  attachVgemFence, DrmCap, DrmClientCap, DrmDevice, type GemBuffer, listDevices, openDevice, Syncobj, VaWindow,
} from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const nodes = listDevices();

const vgem = findVgem();
reportNotRun('drm-device (vgem)', vgem);

const PAGE = 4096;

describe.skipIf(!vgem.ready)('vgem device', () => {
  const cardPath = vgem.ready ? vgem.card : '';
  const renderPath = vgem.ready ? vgem.render : '';

  it('is listed as a card node paired with its render node', () => {
    const render = nodes.find((n) => n.path === renderPath);
    expect(render?.type).toBe('render');
    expect(render?.sibling).toBe(cardPath);
  });

  it('identifies itself as vgem through DRM_IOCTL_VERSION on both nodes', () => {
    using cardDevice = DrmDevice.open(cardPath);
    using renderDevice = DrmDevice.open(renderPath);
    expect([cardDevice.driver, renderDevice.driver]).toEqual(['vgem', 'vgem']);
    expect([cardDevice.nodeType, renderDevice.nodeType]).toEqual(['card', 'render']);
    expect(cardDevice.version.desc).toBe('Virtual GEM provider');
  });

  it('is what openDevice() picks: the first node that can allocate, the card node', () => {
    using device = openDevice();
    expect(device.kind).toBe('drm');
    expect(device.path).toBe(cardPath);
  });

  it.each([
    ['PRIME', DrmCap.PRIME, 3n],
    ['TIMESTAMP_MONOTONIC', DrmCap.TIMESTAMP_MONOTONIC, 1n],
    ['SYNCOBJ', DrmCap.SYNCOBJ, 0n],
  ])('reports GET_CAP(%s) = %s', (_name, cap, value) => {
    using device = DrmDevice.open(renderPath);
    expect(device.getCap(cap)).toBe(value);
  });

  it('answers GET_CAP(DUMB_BUFFER) with EOPNOTSUPP: vgem is not a KMS driver', () => {
    using device = DrmDevice.open(cardPath);
    expect(() => device.getCap(DrmCap.DUMB_BUFFER)).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP', ioctl: 'DRM_IOCTL_GET_CAP' }));
  });

  it('refuses SET_CLIENT_CAP: EOPNOTSUPP on the card node, EACCES on the render node', () => {
    using cardDevice = DrmDevice.open(cardPath);
    using renderDevice = DrmDevice.open(renderPath);
    expect(() => cardDevice.setClientCap(DrmClientCap.UNIVERSAL_PLANES, 1)).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP' }));
    expect(() => renderDevice.setClientCap(DrmClientCap.UNIVERSAL_PLANES, 1)).toThrow(expect.objectContaining({ code: 'EACCES' }));
  });

  it.each([
    [{ width: 1, height: 1, bpp: 1 }, 4096n],
    [{ width: 1024, height: 1024, bpp: 8 }, 1n << 20n],
    [{ width: 32768, height: 32768, bpp: 16 }, 2n << 30n],
  ])('creates a dumb buffer %o of %s bytes on the card node (IGT vgem_basic create)', (options, size) => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createDumb(options);
    expect(buffer.size).toBe(size);
  });

  it('refuses a 0x0 dumb buffer with EINVAL', () => {
    using device = DrmDevice.open(cardPath);
    expect(() => device.createDumb({ width: 0, height: 0, bpp: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('refuses dumb create on the render node with EACCES, saying vgem allocates only on the card node', () => {
    using device = DrmDevice.open(renderPath);
    expect(() => device.createBuffer(PAGE)).toThrow(expect.objectContaining({
      code: 'EACCES', errno: -13, syscall: 'ioctl', ioctl: 'DRM_IOCTL_MODE_CREATE_DUMB', path: renderPath,
      advice: expect.stringContaining('vgem allocates only on the card node'),
    }));
  });

  it('maps a card-node buffer and reads back what was written', () => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createBuffer(4 * PAGE);
    using first = buffer.map();
    first.bytes.fill(0x5c);
    using second = buffer.map();
    expect(second.bytes.every((b) => b === 0x5c)).toBe(true);
  });

  it('refuses a card-node map at a non-zero offset with EINVAL and says to map whole buffers', () => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createBuffer(4 * PAGE);
    expect(() => buffer.map({ offset: 2 * PAGE })).toThrow(expect.objectContaining({
      code: 'EINVAL', syscall: 'mmap', advice: expect.stringContaining('whole buffers'),
    }));
  });

  it('shares a buffer with the render node through PRIME: both see the same bytes', () => {
    using cardDevice = DrmDevice.open(cardPath);
    using renderDevice = DrmDevice.open(renderPath);
    using buffer = cardDevice.createBuffer(2 * PAGE);
    using exported = buffer.exportDmaBuf();
    using imported = renderDevice.importDmaBuf(exported);
    expect(imported.size).toBe(buffer.size);
    using viaRender = imported.exportDmaBuf();
    using renderMap = viaRender.map();
    using cardMap = buffer.map();
    cardMap.bytes[PAGE + 3] = 0xab;
    renderMap.bytes[5] = 0xcd;
    expect(renderMap.bytes[PAGE + 3]).toBe(0xab);
    expect(cardMap.bytes[5]).toBe(0xcd);
  });

  it('gives the same handle for the same buffer imported twice, and keeps it until both are closed', () => {
    using cardDevice = DrmDevice.open(cardPath);
    using renderDevice = DrmDevice.open(renderPath);
    using buffer = cardDevice.createBuffer(PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    const first = renderDevice.importDmaBuf(dmaBuf);
    using second = renderDevice.importDmaBuf(dmaBuf);
    expect(second.handle).toBe(first.handle);
    first.close();
    using again = second.exportDmaBuf();
    expect(again.size).toBe(buffer.size);
  });

  it('closes the GEM handle: a second GEM_CLOSE of it gives EINVAL', () => {
    using device = DrmDevice.open(cardPath);
    const buffer = device.createBuffer(PAGE);
    const handle = buffer.handle;
    buffer.close();
    expect(() => native().gemClose(device.fd, handle)).toThrow(expect.objectContaining({ errno: 22 }));
  });

  it('shares by global name on the card node (FLINK/OPEN), which the render node refuses', () => {
    using cardDevice = DrmDevice.open(cardPath);
    using other = DrmDevice.open(cardPath);
    using renderDevice = DrmDevice.open(renderPath);
    using buffer = cardDevice.createBuffer(PAGE);
    const name = buffer.flink();
    using opened = other.openFlink(name);
    expect(opened.size).toBe(buffer.size);
    expect(() => renderDevice.openFlink(name)).toThrow(expect.objectContaining({ code: 'EACCES', advice: expect.stringContaining('PRIME') }));
  });

  it('refuses a dma-buf map at a non-zero offset where vgem would map the wrong page, and says why', () => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createBuffer(4 * PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    let refusal: unknown;
    try {
      using tail = dmaBuf.map({ offset: 2 * PAGE });
      // Only a kernel that maps sub-ranges correctly gets here, and then the pages must be the right ones.
      using whole = dmaBuf.map();
      whole.bytes.fill(0x43, 2 * PAGE, 3 * PAGE);
      expect(tail.bytes[0]).toBe(0x43);
    } catch (error) {
      refusal = error;
    }
    // vgem on Linux 6.1 and 7.2 ignores the page offset when it faults dma-buf pages in.
    expect(refusal).toMatchObject({ code: 'ERR_DRM_UNSAFE_MAPPING', message: expect.stringContaining('wrong page') });
  });

  it('has no sync objects: Syncobj.create says so, and the raw ioctl gives EOPNOTSUPP', () => {
    using device = DrmDevice.open(renderPath);
    expect(() => Syncobj.create(device)).toThrow(expect.objectContaining({ code: 'ERR_DRM_NOT_SUPPORTED', message: expect.stringContaining('vgem') }));
    expect(() => native().syncobjCreate(device.fd, false)).toThrow(expect.objectContaining({ errno: 95 }));
  });

  it('leaves mappings of a closed device\'s buffers intact until the buffers close', () => {
    const device = DrmDevice.open(cardPath);
    const buffer = device.createBuffer(PAGE);
    const mapping = buffer.map();
    mapping.bytes[0] = 7;
    device.close();
    expect(mapping.bytes[0]).toBe(7);
    expect(() => buffer.map()).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
    buffer.close();
    expect(mapping.mapped).toBe(false);
  });

  it('places a vgem buffer into a VA window through the card node and through its dma-buf', () => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createBuffer(2 * PAGE);
    using mapping = buffer.map();
    mapping.bytes.fill(0x44, PAGE, 2 * PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    using window = VaWindow.reserve(8 * PAGE);
    window.map(0, buffer);
    window.map(4 * PAGE, dmaBuf);
    const span = new Uint8Array(window.view(0, 2 * PAGE));
    const viaDmaBuf = new Uint8Array(window.view(4 * PAGE, 2 * PAGE));
    expect([span[PAGE], viaDmaBuf[PAGE]]).toEqual([0x44, 0x44]);
    // vgem maps dma-buf sub-ranges from the wrong page: the window refuses them as map() does.
    expect(() => window.map(2 * PAGE, dmaBuf, { sourceOffset: PAGE })).toThrow(expect.objectContaining({ code: 'ERR_DRM_UNSAFE_MAPPING' }));
  });

  // Found by the guest fuzzer: vgem faults a page in by its distance from the start of the mapping, so the
  // piece an unmap leaves after it showed the buffer's first pages, unless they had been faulted in before.
  it.each(['card node', 'dma-buf'])('a VA window mapping of a vgem buffer (through its %s) keeps the right pages after its start or middle is unmapped', (through) => {
    using device = DrmDevice.open(cardPath);
    using buffer = device.createBuffer(16 * PAGE);
    using mapping = buffer.map();
    for (let p = 0; p < 16; p++) mapping.bytes[p * PAGE] = 100 + p;
    using dmaBuf = buffer.exportDmaBuf();
    using window = VaWindow.reserve(32 * PAGE);
    window.map(0, through === 'dma-buf' ? dmaBuf : buffer);
    window.unmap(0, PAGE);
    window.unmap(4 * PAGE, 2 * PAGE);
    const firsts = (offset: number, pages: number): number[] => {
      const bytes = new Uint8Array(window.view(offset, pages * PAGE));
      return Array.from({ length: pages }, (_, i) => bytes[i * PAGE]!);
    };
    expect(firsts(PAGE, 3)).toEqual([101, 102, 103]);
    expect(firsts(6 * PAGE, 10)).toEqual([106, 107, 108, 109, 110, 111, 112, 113, 114, 115]);
  });

  describe('DrmDevice methods refuse bad input with a coded error, before any ioctl', () => {
    const TWO_64 = 1n << 64n;
    const cases: Array<[string, (d: DrmDevice, b: GemBuffer) => unknown, string]> = [
      ['getCap("1")', (d) => d.getCap('1' as never), 'ERR_INVALID_ARG_TYPE'],
      ['getCap(-1)', (d) => d.getCap(-1), 'ERR_OUT_OF_RANGE'],
      ['getCap(2^64)', (d) => d.getCap(TWO_64), 'ERR_OUT_OF_RANGE'],
      ['setClientCap(1, NaN)', (d) => d.setClientCap(1, Number.NaN), 'ERR_OUT_OF_RANGE'],
      ['createDumb(null)', (d) => d.createDumb(null as never), 'ERR_INVALID_ARG_TYPE'],
      ['createDumb width 2^32', (d) => d.createDumb({ width: 2 ** 32, height: 1, bpp: 8 }), 'ERR_OUT_OF_RANGE'],
      ['createDumb bpp -8', (d) => d.createDumb({ width: 1, height: 1, bpp: -8 }), 'ERR_OUT_OF_RANGE'],
      ['createDumb height "1"', (d) => d.createDumb({ width: 1, height: '1' as never, bpp: 8 }), 'ERR_INVALID_ARG_TYPE'],
      ['createBuffer(0)', (d) => d.createBuffer(0), 'ERR_OUT_OF_RANGE'],
      ['createBuffer(NaN)', (d) => d.createBuffer(Number.NaN), 'ERR_OUT_OF_RANGE'],
      ['createBuffer(2^64)', (d) => d.createBuffer(TWO_64), 'ERR_OUT_OF_RANGE'],
      ['createBuffer(2^50)', (d) => d.createBuffer(2 ** 50), 'ERR_OUT_OF_RANGE'],
      ['importDmaBuf(3)', (d) => d.importDmaBuf(3 as never), 'ERR_INVALID_ARG_TYPE'],
      ['openFlink(-1)', (d) => d.openFlink(-1), 'ERR_OUT_OF_RANGE'],
      ['openFlink(2^32)', (d) => d.openFlink(2 ** 32), 'ERR_OUT_OF_RANGE'],
      ['buffer.map({ offset: 2^64 })', (_d, b) => b.map({ offset: TWO_64 }), 'ERR_OUT_OF_RANGE'],
      ['buffer.map({ length: -1 })', (_d, b) => b.map({ length: -1 }), 'ERR_OUT_OF_RANGE'],
      // A Proxy's traps could name any fd or handle: refused as an argument and as the receiver.
      ['Syncobj.create(a Proxy of the device)', (d) => Syncobj.create(new Proxy(d, {})), 'ERR_INVALID_ARG_TYPE'],
      ['attachVgemFence(a Proxy of the buffer)', (_d, b) => attachVgemFence(new Proxy(b, {})), 'ERR_INVALID_ARG_TYPE'],
      // Each was an untyped TypeError, found by the guest fuzzer (null options read before they were checked).
      ['attachVgemFence(buffer, null)', (_d, b) => attachVgemFence(b, null as never), 'ERR_INVALID_ARG_TYPE'],
      ['Syncobj.create(device, null)', (d) => Syncobj.create(d, null as never), 'ERR_INVALID_ARG_TYPE'],
      ['buffer.exportDmaBuf(null)', (_d, b) => b.exportDmaBuf(null as never), 'ERR_INVALID_ARG_TYPE'],
      ['VaWindow.map of a Proxy of the buffer', (_d, b) => { using w = VaWindow.reserve(PAGE); w.map(0, new Proxy(b, {})); }, 'ERR_INVALID_ARG_TYPE'],
      ['a Proxy of the device: createBuffer', (d) => new Proxy(d, {}).createBuffer(PAGE), 'ERR_INVALID_THIS'],
      ['a Proxy of the buffer: map', (_d, b) => new Proxy(b, {}).map(), 'ERR_INVALID_THIS'],
      ['a Proxy of a window: map', (_d, b) => { using w = VaWindow.reserve(PAGE); new Proxy(w, {}).map(0, b); }, 'ERR_INVALID_THIS'],
    ];
    it.each(cases)('%s', (_name, call, code) => {
      using device = DrmDevice.open(cardPath);
      using buffer = device.createBuffer(PAGE);
      expect(() => call(device, buffer)).toThrow(expect.objectContaining({ code }));
    });

    it('refuses every method of a closed device and a closed buffer with ERR_USE_AFTER_CLOSE', () => {
      const device = DrmDevice.open(cardPath);
      const buffer = device.createBuffer(PAGE);
      buffer.close();
      for (const call of [() => buffer.map(), () => buffer.exportDmaBuf(), () => buffer.flink()]) {
        expect(call).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
      }
      device.close();
      for (const call of [() => device.getCap(1), () => device.createBuffer(PAGE), () => device.openFlink(1), () => device.checkSubrangeMapping()]) {
        expect(call).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
      }
    });
  });
});
