// SPDX-License-Identifier: MIT
// The VA window primitives over the software device: buffers placed at fixed offsets of a reserved
// range, holes punched back, views across several buffers, and views detached before memory changes.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SoftwareDevice, VaWindow } from '../../lib/index.js';
import { mulberry32 } from '../../lib/mulberry32.js';
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

  it('cuts only the ranges a hole touches: a tail, whole ranges, a head, and none', () => {
    using device = new SoftwareDevice();
    using window = VaWindow.reserve(16n * P);
    const buffers = [1, 2, 3, 4, 5].map((byte) => filled(device, 2, byte));
    try {
      for (const [i, at] of [0n, 3n, 5n, 8n, 12n].entries()) window.map(at * P, buffers[i]!);
      window.unmap(P, 8n * P);
      expect(window.mappedRanges()).toEqual([
        { offset: 0n, end: P },
        { offset: 9n * P, end: 10n * P },
        { offset: 12n * P, end: 14n * P },
      ]);
      expect(new Uint8Array(window.view(0, P))[0]).toBe(1);
      expect(new Uint8Array(window.view(9n * P, P))[0]).toBe(4);
      window.unmap(14n * P, 2n * P);
      expect(window.mappedRanges()).toHaveLength(3);
    } finally {
      for (const buffer of buffers) buffer.close();
    }
  });

  it('keeps the ranges a list model keeps over 400 seeded maps and unmaps', () => {
    const PAGES = 32;
    using device = new SoftwareDevice();
    using window = VaWindow.reserve(BigInt(PAGES) * P);
    using buffer = device.createBuffer(PAGES * PAGE);
    // The model: mapped ranges in pages, rebuilt whole on every unmap (the plain rule the window keeps).
    let model: [number, number][] = [];
    const random = mulberry32(16);
    for (let step = 0; step < 400; step++) {
      const at = Math.floor(random() * PAGES);
      const pages = 1 + Math.floor(random() * Math.min(6, PAGES - at));
      if (random() < 0.5) {
        if (model.some(([start, end]) => start < at + pages && at < end)) continue;
        window.map(BigInt(at) * P, buffer, { sourceOffset: BigInt(at) * P, length: BigInt(pages) * P });
        model = [...model, [at, at + pages] as [number, number]].sort((a, b) => a[0] - b[0]);
      } else {
        window.unmap(BigInt(at) * P, BigInt(pages) * P);
        model = model.flatMap(([start, end]): [number, number][] => {
          if (end <= at || start >= at + pages) return [[start, end]];
          return [...(start < at ? [[start, at] as [number, number]] : []), ...(end > at + pages ? [[at + pages, end] as [number, number]] : [])];
        });
      }
      expect(window.mappedRanges()).toEqual(model.map(([start, end]) => ({ offset: BigInt(start) * P, end: BigInt(end) * P })));
    }
  });

  it('keeps one copy of a source\'s fd, and lets it go when the source closes: what is mapped stays', () => {
    using device = new SoftwareDevice();
    using window = VaWindow.reserve(8n * P);
    const records = () => native().nativeRecords().windowSources;
    const before = records();
    const a = filled(device, 1, 0x0a);
    using b = filled(device, 1, 0x0b);
    window.map(0, a);
    window.unmap(0, P);
    window.map(P, a);
    window.map(2n * P, b);
    expect(records()).toBe(before + 2);
    a.close();
    expect(records()).toBe(before + 1);
    expect(new Uint8Array(window.view(P, P))[0]).toBe(0x0a);
    expect(() => window.map(3n * P, a)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    window.close();
    expect(records()).toBe(before);
  });

  it('maps the file it checked when the source\'s fd number is closed behind its back and reused', () => {
    using device = new SoftwareDevice();
    using window = VaWindow.reserve(4n * P);
    const before = native().nativeRecords().windowSources;
    const buffer = filled(device, 1, 0x5a);
    window.map(0, buffer);
    window.unmap(0, P);
    const number = buffer.fd;
    closeSync(number);
    const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-window-'));
    // An unsealed regular file: mapped, a truncation would make reads through it SIGBUS.
    writeFileSync(join(dir, 'f'), Buffer.alloc(PAGE, 0xee));
    const reused = openSync(join(dir, 'f'), 'r+');
    try {
      expect(reused).toBe(number);
      window.map(0, buffer);
      expect(new Uint8Array(window.view(0, P))[0]).toBe(0x5a);
    } finally {
      closeSync(reused);
      rmSync(dir, { recursive: true });
      // Its own close fails now: the number it held is gone. The window lets its copy go all the same.
      expect(() => buffer.close()).toThrow();
      expect(native().nativeRecords().windowSources).toBe(before);
    }
  });

  it('leaves nothing on a long-lived source per window that mapped it and closed: 22,000 windows, the heap flat', () => {
    const child = fileURLToPath(new URL('./fixtures/window-owner-growth.mjs', import.meta.url));
    const run = spawnSync(process.execPath, ['--expose-gc', child, '22000'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { early: number; late: number; sources: number };
    expect(seen.sources).toBe(0);
    // A close listener and a registry entry left per window came to about 750 B each (15 MB here).
    expect(seen.late - seen.early).toBeLessThan(2 * 2 ** 20);
  }, 120_000);

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
