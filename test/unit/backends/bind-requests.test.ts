// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { bindRequestsFromOps, checkRequest, type BindRequest } from '../../../lib/backends/bind-requests.js';
import { BindRefusedError } from '../../../lib/backends/bind-refused-error.js';
import { OpPrefetch, type GpuVaOp } from '../../../lib/gpuvm/ops.js';
import { A, B, C, D, handleOf, map, remap, unmap, va } from './layout-bytes.js';

const gem = { handleOf };
const m = (addr: number, range: number, handle: number | null, offset: number, overOccupied: boolean): BindRequest =>
  ({ kind: 'map', addr: BigInt(addr), range: BigInt(range), handle, offset: BigInt(offset), overOccupied });
const u = (addr: number, range: number, wholeHandle?: number | null): BindRequest =>
  wholeHandle === undefined
    ? { kind: 'unmap', addr: BigInt(addr), range: BigInt(range) }
    : { kind: 'unmap', addr: BigInt(addr), range: BigInt(range), wholeHandle };

// Op lists are the worked examples of gpuvm-semantics.md §2.4 (M = sm_map, U = sm_unmap).
const V1 = va(0, 0x2000, A);
const cases: [string, GpuVaOp[], BindRequest[]][] = [
  ['M1 map on empty space is one map request over free space', [map(0x1000, 0x2000, A)], [m(0x1000, 0x2000, 1, 0, false)]],
  ['M2 identical re-map (UNMAP keep, MAP) is one map request over occupied space',
    [unmap(va(0, 0x1000, A), true), map(0, 0x1000, A)], [m(0, 0x1000, 1, 0, true)]],
  ['M6 map splitting a VA keeps only the map request', [remap(V1, null, va(0x1000, 0x1000, A, 0x1000)), map(0, 0x1000, B)], [m(0, 0x1000, 2, 0, true)]],
  ['M15 map across three VAs keeps only the map request',
    [remap(va(0, 0x2000, A), va(0, 0x1000, A), null), unmap(va(0x2000, 0x1000, B)), remap(va(0x3000, 0x2000, C), null, va(0x4000, 0x1000, C, 0x1000)), map(0x1000, 0x3000, D)],
    [m(0x1000, 0x3000, 4, 0, true)]],
  ['M18 sparse map inside a sparse VA has no handle', [remap(va(0, 0x3000, null), va(0, 0x1000, null), va(0x2000, 0x1000, null, 0x2000)), map(0x1000, 0x1000, null)],
    [m(0x1000, 0x1000, null, 0, true)]],
  ['U1 unmap inside a VA is an unmap request of the hole', [remap(va(0, 0x3000, A), va(0, 0x1000, A), va(0x2000, 0x1000, A, 0x2000))], [u(0x1000, 0x1000)]],
  ['U2 unmap across two VAs is one request per op', [remap(va(0, 0x2000, A), va(0, 0x1000, A), null), remap(va(0x2000, 0x2000, B, 0x10), null, va(0x3000, 0x1000, B, 0x1010))],
    [u(0x1000, 0x1000), u(0x2000, 0x1000)]],
  ['U3 unmap of a whole VA names its handle', [unmap(va(0, 0x1000, A))], [u(0, 0x1000, 1)]],
  ['U4 unmap of three whole VAs', [unmap(va(0, 0x1000, A)), unmap(va(0x2000, 0x1000, B)), unmap(va(0x3000, 0x1000, C))],
    [u(0, 0x1000, 1), u(0x2000, 0x1000, 2), u(0x3000, 0x1000, 3)]],
  ['U5 unmap of empty space is nothing', [], []],
  ['U6 whole sparse VA unmap has a null handle', [unmap(va(0, 0x1000, null))], [u(0, 0x1000, null)]],
  ['an unmap list then a map list: removals outside the map stay, inside are implied',
    [unmap(va(0, 0x1000, A)), unmap(va(0x4000, 0x1000, B)), map(0x4000, 0x2000, C)], [u(0, 0x1000, 1), m(0x4000, 0x2000, 3, 0, true)]],
  ['M23 two successive map lists give two map requests',
    [remap(va(0, 0x4000, A), va(0, 0x1000, A), va(0x2000, 0x2000, A, 0x2000), true), map(0x1000, 0x1000, A, 0x1000),
      remap(va(0x2000, 0x2000, A, 0x2000), null, va(0x3000, 0x1000, A, 0x3000), true), map(0x2000, 0x1000, A, 0x2000)],
    [m(0x1000, 0x1000, 1, 0x1000, true), m(0x2000, 0x1000, 1, 0x2000, true)]],
];

describe('bindRequestsFromOps', () => {
  it.each(cases)('%s', (_name, ops, expected) => {
    expect(bindRequestsFromOps('xe', ops, gem)).toEqual(expected);
  });

  it('refuses a PREFETCH op', () => {
    expect(() => bindRequestsFromOps('xe', [new OpPrefetch(va(0, 0x1000, A))], gem)).toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'xe' }));
  });

  it('refuses a handle that is not a u32', () => {
    expect(() => bindRequestsFromOps('xe', [map(0, 0x1000, A)], { handleOf: () => -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('checkRequest', () => {
  const rules = { pageSize: 0x1000n, vaStart: 0x10000n, vaEnd: 1n << 48n };
  const refusal = (req: BindRequest) => {
    try {
      checkRequest('xe', rules, req, 0);
    } catch (err) {
      expect(err).toBeInstanceOf(BindRefusedError);
      return (err as BindRefusedError).code;
    }
    return 'accepted';
  };
  it.each([
    ['an aligned map inside the space', m(0x10000, 0x1000, 1, 0x2000, false), 'accepted'],
    ['an empty range', m(0x10000, 0, 1, 0, false), 'ERR_BIND_RANGE'],
    ['an unaligned address', m(0x10800, 0x1000, 1, 0, false), 'ERR_BIND_ALIGNMENT'],
    ['an unaligned size', u(0x10000, 0x1800), 'ERR_BIND_ALIGNMENT'],
    ['an unaligned BO offset', m(0x10000, 0x1000, 1, 0x10, false), 'ERR_BIND_ALIGNMENT'],
    ['a range below the space', m(0xf000, 0x1000, 1, 0, false), 'ERR_BIND_RANGE'],
    ['a range ending past the space', u(0xffff_ffff_f000, 0x2000), 'ERR_BIND_RANGE'],
    ['a range ending exactly at the end of the space', u(0xffff_ffff_f000, 0x1000), 'accepted'],
    ['a sparse map with a non-zero offset', m(0x10000, 0x1000, null, 0x1000, false), 'ERR_BIND_RANGE'],
  ] as const)('%s: %s', (_name, req, code) => {
    expect(refusal(req)).toBe(code);
  });
});
