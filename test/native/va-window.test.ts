// SPDX-License-Identifier: MIT
// The VA window primitives over the software device: buffers placed at fixed offsets of a reserved
// range, holes punched back, views across several buffers, and views detached before memory changes.
import { describe, expect, it } from 'vitest';
import { SoftwareDevice, VaWindow } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const PAGE = native().pageSize;
const P = BigInt(PAGE);

function filled(device: SoftwareDevice, pages: number, byte: number) {
  const buffer = device.createBuffer(pages * PAGE);
  using mapping = buffer.map();
  mapping.bytes.fill(byte);
  return buffer;
}

describe('VaWindow', () => {
  it('starts as one hole: nothing mapped, nothing viewable', () => {
    using window = VaWindow.reserve(16n * P);
    expect(window.mappedRanges()).toEqual([]);
    expect(() => window.view(0, P)).toThrow(expect.objectContaining({ code: 'ERR_DRM_VA_HOLE' }));
  });

  it('shows a buffer mapped at an offset through a view at that offset', () => {
    using device = new SoftwareDevice();
    using buffer = filled(device, 2, 0x61);
    using window = VaWindow.reserve(16n * P);
    window.map(4n * P, buffer);
    expect(window.mappedRanges()).toEqual([{ offset: 4n * P, end: 6n * P }]);
    const view = new Uint8Array(window.view(4n * P, 2n * P));
    expect(view[0]).toBe(0x61);
    view[PAGE] = 0x7a;
    using check = buffer.map();
    expect(check.bytes[PAGE]).toBe(0x7a);
  });

  it('places a sub-range of a buffer: source page 2 lands at the window offset', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(4 * PAGE);
    using mapping = buffer.map();
    for (let page = 0; page < 4; page++) mapping.bytes.fill(0x41 + page, page * PAGE, (page + 1) * PAGE);
    using window = VaWindow.reserve(8n * P);
    window.map(0, buffer, { sourceOffset: 2n * P, length: P });
    expect(new Uint8Array(window.view(0, P))[0]).toBe(0x43);
  });

  it('views one contiguous span across two buffers mapped side by side', () => {
    using device = new SoftwareDevice();
    using a = filled(device, 1, 0x11);
    using b = filled(device, 1, 0x22);
    using window = VaWindow.reserve(8n * P);
    window.map(2n * P, a);
    window.map(3n * P, b);
    const span = new Uint8Array(window.view(2n * P, 2n * P));
    expect([span[0], span[PAGE - 1], span[PAGE], span[2 * PAGE - 1]]).toEqual([0x11, 0x11, 0x22, 0x22]);
  });

  it('refuses to map over a mapped range', () => {
    using device = new SoftwareDevice();
    using a = filled(device, 2, 1);
    using b = filled(device, 1, 2);
    using window = VaWindow.reserve(8n * P);
    window.map(P, a);
    expect(() => window.map(2n * P, b)).toThrow(expect.objectContaining({ code: 'ERR_DRM_VA_BUSY' }));
    expect(window.mappedRanges()).toEqual([{ offset: P, end: 3n * P }]);
  });

  it('splits a mapping when the middle is unmapped, and the edges keep their pages', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(3 * PAGE);
    using mapping = buffer.map();
    for (let page = 0; page < 3; page++) mapping.bytes.fill(0x41 + page, page * PAGE, (page + 1) * PAGE);
    using window = VaWindow.reserve(8n * P);
    window.map(0, buffer);
    window.unmap(P, P);
    expect(window.mappedRanges()).toEqual([{ offset: 0n, end: P }, { offset: 2n * P, end: 3n * P }]);
    expect(new Uint8Array(window.view(2n * P, P))[0]).toBe(0x43);
    expect(() => window.view(0, 3n * P)).toThrow(expect.objectContaining({ code: 'ERR_DRM_VA_HOLE' }));
  });

  it('detaches a view before the memory under it is unmapped', () => {
    using device = new SoftwareDevice();
    using buffer = filled(device, 2, 5);
    using window = VaWindow.reserve(4n * P);
    window.map(0, buffer);
    const touching = window.view(P, P);
    const apart = window.view(0, P);
    window.unmap(P, P);
    expect(touching.byteLength).toBe(0);
    expect(apart.byteLength).toBe(PAGE);
  });

  it('detaches every view when released, and refuses use after release', () => {
    using device = new SoftwareDevice();
    using buffer = filled(device, 1, 5);
    const window = VaWindow.reserve(4n * P);
    window.map(0, buffer);
    const view = window.view(0, P);
    window.close();
    expect(view.byteLength).toBe(0);
    expect(() => window.view(0, P)).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
  });

  it('maps exported memfds (DmaBuf) as well as buffers', () => {
    using device = new SoftwareDevice();
    using buffer = filled(device, 2, 0x33);
    using dmaBuf = buffer.exportDmaBuf();
    using window = VaWindow.reserve(4n * P);
    window.map(0, dmaBuf, { sourceOffset: P });
    expect(new Uint8Array(window.view(0, P))[0]).toBe(0x33);
  });

  it.each([
    ['a size that is not whole pages', () => VaWindow.reserve(100), 'ERR_OUT_OF_RANGE'],
    ['a size of 2^64', () => VaWindow.reserve(1n << 64n), 'ERR_OUT_OF_RANGE'],
    ['a negative size', () => VaWindow.reserve(-4096), 'ERR_OUT_OF_RANGE'],
  ])('refuses to reserve %s', (_name, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it.each([
    ['an offset past the window', (w: VaWindow, b: never) => w.map(8n * P, b), 'ERR_OUT_OF_RANGE'],
    ['an unaligned offset', (w: VaWindow, b: never) => w.map(1, b), 'ERR_OUT_OF_RANGE'],
    ['a range that runs off the end', (w: VaWindow, b: never) => w.map(3n * P, b), 'ERR_OUT_OF_RANGE'],
    ['a source that is not a buffer', (w: VaWindow) => w.map(0, 'buffer' as never), 'ERR_INVALID_ARG_TYPE'],
    ['a length past the source', (w: VaWindow, b: never) => w.map(0, b, { length: 3n * P }), 'ERR_OUT_OF_RANGE'],
    ['a NaN unmap length', (w: VaWindow) => w.unmap(0, Number.NaN), 'ERR_OUT_OF_RANGE'],
    ['a view of 2^64 bytes', (w: VaWindow) => w.view(0, 1n << 64n), 'ERR_OUT_OF_RANGE'],
  ])('refuses %s, changing nothing', (_name, call, code) => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(2 * PAGE);
    using window = VaWindow.reserve(4n * P);
    expect(() => call(window, buffer as never)).toThrow(expect.objectContaining({ code }));
    expect(window.mappedRanges()).toEqual([]);
  });
});
