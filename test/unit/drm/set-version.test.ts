// SPDX-License-Identifier: MIT
// DrmDevice.setVersion's argument rule: an object of four C ints, refused with a coded error before any
// ioctl. The ioctl itself runs against vgem in test/guest/vgem-basic.test.ts (setversion).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSetVersionRequest } from '../../../lib/drm/set-version.js';

const IGT_REQUEST = { interfaceMajor: 1, interfaceMinor: 4, driverMajor: -1, driverMinor: -1 };

describe('toSetVersionRequest', () => {
  it('accepts exactly the integers a C int holds, in every field', () => {
    fc.assert(fc.property(
      fc.constantFrom('interfaceMajor', 'interfaceMinor', 'driverMajor', 'driverMinor'),
      fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.double(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
      (field, value) => {
        const fits = Number.isInteger(value) && value >= -(2 ** 31) && value <= 2 ** 31 - 1;
        const request = { ...IGT_REQUEST, [field]: value };
        if (fits) {
          expect(toSetVersionRequest(request)).toEqual(request);
        } else {
          expect(() => toSetVersionRequest(request)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
        }
      },
    ));
  });

  it.each([
    ['a request that is null', null, 'ERR_INVALID_ARG_TYPE'],
    ['a request that is a number', 1, 'ERR_INVALID_ARG_TYPE'],
    ['a missing field', { interfaceMajor: 1, interfaceMinor: 4, driverMajor: -1 }, 'ERR_INVALID_ARG_TYPE'],
    ['a field given as a string', { ...IGT_REQUEST, interfaceMinor: '4' }, 'ERR_INVALID_ARG_TYPE'],
    ['a field given as a bigint', { ...IGT_REQUEST, driverMajor: -1n }, 'ERR_INVALID_ARG_TYPE'],
    ['a fraction', { ...IGT_REQUEST, interfaceMinor: 1.5 }, 'ERR_OUT_OF_RANGE'],
    ['NaN', { ...IGT_REQUEST, driverMinor: Number.NaN }, 'ERR_OUT_OF_RANGE'],
    ['2^31', { ...IGT_REQUEST, interfaceMajor: 2 ** 31 }, 'ERR_OUT_OF_RANGE'],
    ['-2^31 - 1', { ...IGT_REQUEST, driverMajor: -(2 ** 31) - 1 }, 'ERR_OUT_OF_RANGE'],
  ])('refuses %s', (_name, request, code) => {
    expect(() => toSetVersionRequest(request)).toThrow(expect.objectContaining({ code }));
  });

  it('names the offending field in the error', () => {
    expect(() => toSetVersionRequest({ ...IGT_REQUEST, driverMinor: 0.5 })).toThrow(/"driverMinor"/);
  });

  it('reads each field once and returns a copy, so a getter cannot swap a value after the check', () => {
    let reads = 0;
    const request = { ...IGT_REQUEST, get interfaceMinor() { reads += 1; return reads === 1 ? 4 : 2 ** 40; } };
    const checked = toSetVersionRequest(request);
    expect(checked.interfaceMinor).toBe(4);
    expect(reads).toBe(1);
    expect(checked).not.toBe(request);
  });
});
