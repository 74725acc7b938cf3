// SPDX-License-Identifier: MIT
// The software device: the Device/Buffer interface over sealed memfds, on any Linux machine.
import { describe, expect, it } from 'vitest';
import { DmaBuf, openDevice, SoftwareDevice } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const PAGE = native().pageSize;

describe('SoftwareDevice', () => {
  it('is what openDevice() returns where there is no usable DRM node', () => {
    using device = openDevice();
    // This machine has no /dev/dri; the test says so rather than passing vacuously elsewhere.
    expect(device.kind).toBe('software');
    expect(device.driver).toBe('software');
  });

  it('rounds buffer sizes up to whole pages', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(1);
    expect(buffer.size).toBe(BigInt(PAGE));
  });

  it('gives each buffer its own handle', () => {
    using device = new SoftwareDevice();
    using a = device.createBuffer(PAGE);
    using b = device.createBuffer(PAGE);
    expect(a.handle).not.toBe(b.handle);
  });

  it('hands out zero-filled memory', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(4 * PAGE);
    using mapping = buffer.map();
    expect(mapping.bytes.every((byte) => byte === 0)).toBe(true);
  });

  it('shares memory between two mappings of the same buffer', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    using first = buffer.map();
    using second = buffer.map();
    first.bytes[7] = 0x42;
    expect(second.bytes[7]).toBe(0x42);
  });

  it('maps a sub-range at a non-zero offset onto the right pages', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(4 * PAGE);
    using whole = buffer.map();
    for (let page = 0; page < 4; page++) whole.bytes.fill(0x41 + page, page * PAGE, (page + 1) * PAGE);
    using tail = buffer.map({ offset: 2 * PAGE, length: 2 * PAGE });
    expect(tail.offset).toBe(BigInt(2 * PAGE));
    expect(tail.length).toBe(2 * PAGE);
    expect([tail.bytes[0], tail.bytes[PAGE]]).toEqual([0x43, 0x44]);
    tail.bytes[0] = 0x7a;
    expect(whole.bytes[2 * PAGE]).toBe(0x7a);
  });

  it('refuses a mapping that runs past the end of the buffer', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(2 * PAGE);
    expect(() => buffer.map({ offset: PAGE, length: 2 * PAGE })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('refuses an offset that is not page-aligned', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(2 * PAGE);
    expect(() => buffer.map({ offset: 100 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('exports a memfd that maps the same memory', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(2 * PAGE);
    using mapping = buffer.map();
    mapping.bytes[PAGE + 1] = 9;
    using dmaBuf = buffer.exportDmaBuf();
    expect(dmaBuf.kind).toBe('memfd');
    expect(dmaBuf.size).toBe(buffer.size);
    using view = dmaBuf.map({ offset: PAGE });
    expect(view.bytes[1]).toBe(9);
  });

  it('imports an exported memfd as a buffer of the same memory', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    using imported = device.importDmaBuf(dmaBuf);
    using a = buffer.map();
    using b = imported.map();
    a.bytes[0] = 5;
    expect(b.bytes[0]).toBe(5);
    expect(imported.size).toBe(buffer.size);
  });

  it('wraps a caller-owned memfd fd with DmaBuf.fromFd without taking the caller\'s fd', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    using wrapped = DmaBuf.fromFd(buffer.fd);
    expect(wrapped.fd).not.toBe(buffer.fd);
    expect(wrapped.kind).toBe('memfd');
  });

  it('reports its memfds idle: they carry no fences', async () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    expect(dmaBuf.isIdle('write')).toBe(true);
    await expect(dmaBuf.waitIdle({ timeoutMs: 10 })).resolves.toBe(true);
  });

  it('answers fence ioctls on its memfds with ENOTTY and says why', () => {
    using device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    using dmaBuf = buffer.exportDmaBuf();
    expect(() => dmaBuf.exportSyncFile()).toThrow(expect.objectContaining({
      code: 'ENOTTY', errno: -25, syscall: 'ioctl', ioctl: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE', advice: expect.stringContaining('memfd'),
    }));
  });

  it('detaches a mapping\'s ArrayBuffer when the buffer closes', () => {
    using device = new SoftwareDevice();
    const buffer = device.createBuffer(PAGE);
    const mapping = buffer.map();
    const view = mapping.bytes;
    buffer.close();
    expect(mapping.mapped).toBe(false);
    expect(view.byteLength).toBe(0);
    expect(() => mapping.bytes).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
  });

  it('keeps a buffer usable after its device closes, as a DRM file keeps its mappings', () => {
    const device = new SoftwareDevice();
    using buffer = device.createBuffer(PAGE);
    device.close();
    using mapping = buffer.map();
    mapping.bytes[0] = 1;
    expect(mapping.bytes[0]).toBe(1);
    expect(() => device.createBuffer(PAGE)).toThrow(expect.objectContaining({ code: 'ERR_USE_AFTER_CLOSE' }));
  });
});
