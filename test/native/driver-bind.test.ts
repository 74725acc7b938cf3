// SPDX-License-Identifier: MIT
// The generic marshaller of native/driver_bind.cc without a DRM device: everything it refuses before any
// ioctl, and the driver check running before the driver-private ioctl (a non-DRM fd fails VERSION).
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { xeVmCreate } from '../../lib/backends/xe.js';

interface DriverBindNative {
  driverIoctl(fd: number, driver: string, name: string, request: number, buffers: unknown, pointers: unknown): number;
}
const { driverIoctl } = native() as unknown as DriverBindNative;
const devNull = openSync('/dev/null', 'r+');
afterAll(() => closeSync(devNull));

const call = xeVmCreate();
const issue = (request: number, buffers: unknown, pointers: unknown = new Uint32Array()) =>
  () => driverIoctl(devNull, 'xe', call.ioctl.name, request, buffers, pointers);

describe('driverIoctl refuses before any ioctl', () => {
  it('an argument whose length differs from the request size', () => {
    expect(issue(call.request, [new Uint8Array(31)])).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });

  it('a core (not driver-private) ioctl number', () => {
    expect(issue(0xc0406400, [new Uint8Array(64)])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/not a DRM driver-private ioctl/) }));
  });

  it('an ioctl of another type than DRM', () => {
    expect(issue(0xc0206243, [new Uint8Array(32)])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('a pointer slot past the end of its buffer', () => {
    expect(issue(call.request, [new Uint8Array(32), new Uint8Array(8)], Uint32Array.of(0, 28, 1))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('a pointer slot naming a buffer that does not exist', () => {
    expect(issue(call.request, [new Uint8Array(32)], Uint32Array.of(0, 0, 1))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('pointers that are not whole triples', () => {
    expect(issue(call.request, [new Uint8Array(32)], Uint32Array.of(0, 0))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it.each([
    ['buffers that are not an array', new Uint8Array(32)],
    ['a buffer that is not a Uint8Array', [new Uint16Array(16)]],
    ['an empty buffer list', []],
  ])('%s', (_name, buffers) => {
    expect(issue(call.request, buffers)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/) }));
  });

  it('pointers that are not a Uint32Array', () => {
    expect(issue(call.request, [new Uint8Array(32)], [0, 0, 0])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('driverIoctl checks the driver first', () => {
  it('asks DRM_IOCTL_VERSION before the private ioctl, so a non-DRM fd fails there', () => {
    expect(issue(call.request, [...call.buffers])).toThrow(expect.objectContaining({ syscall: 'ioctl', ioctl: 'DRM_IOCTL_VERSION' }));
  });
});
