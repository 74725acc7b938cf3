// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { AMDGPU, amdgpuGemCreate, amdgpuGemVa, amdgpuGemVaRequest, type AmdgpuVm } from '../../../lib/backends/amdgpu.js';
import { A, B, bytes, handleOf, map, remap, unmap, va, type At } from './layout-bytes.js';

const vm: AmdgpuVm = { rules: { pageSize: 0x1000n, vaStart: 0x80_0000n, vaEnd: 1n << 47n }, handleOf };
const BASE = 0x100_0000;
const RWX = (1 << 1) | (1 << 2) | (1 << 3);
const gemVa = (f: { handle?: number; operation: number; flags?: number; va: number; off?: number; size: number }): Uint8Array =>
  bytes(64, [[0, 4, f.handle ?? 0], [8, 4, f.operation], [12, 4, f.flags ?? 0], [16, 8, f.va], [24, 8, f.off ?? 0], [32, 8, f.size]] as At[]);
const args = (ops: Parameters<typeof amdgpuGemVa>[1]) => amdgpuGemVa(vm, ops).map((call) => call.buffers);

describe('amdgpu ioctl numbers', () => {
  it.each([
    ['GEM_CREATE', amdgpuGemCreate({ size: 0x1000n, alignment: 0x1000n, domains: 2 }), 0xc0206440],
    ['GEM_VA (64-byte struct)', amdgpuGemVa(vm, [map(BASE, 0x1000, A)])[0]!, 0x40406448],
  ])('%s is 0x%s', (_name, call, request) => {
    expect(call.request).toBe(request);
    expect(call.driver).toBe('amdgpu');
  });
});

describe('amdgpu GEM_CREATE', () => {
  it('carries size, alignment, domains and domain flags', () => {
    const call = amdgpuGemCreate({ size: 0x20000n, alignment: 0x10000n, domains: AMDGPU.AMDGPU_GEM_DOMAIN_VRAM, domainFlags: 1n });
    expect(call.buffers).toEqual([bytes(32, [[0, 8, 0x20000], [8, 8, 0x10000], [16, 8, 4], [24, 8, 1]])]);
  });

  it('a VM-private BO adds AMDGPU_GEM_CREATE_VM_ALWAYS_VALID (1 << 6) to the domain flags', () => {
    const call = amdgpuGemCreate({ size: 0x1000n, alignment: 0x1000n, domains: AMDGPU.AMDGPU_GEM_DOMAIN_GTT, domainFlags: 1n, vmPrivate: true });
    expect(call.buffers).toEqual([bytes(32, [[0, 8, 0x1000], [8, 8, 0x1000], [16, 8, 2], [24, 8, 0x41]])]);
  });
});

describe('amdgpu GEM_VA translation', () => {
  it('a map over free space is OP_MAP, readable, writeable and executable by default', () => {
    expect(args([map(BASE, 0x2000, A, 0x1000)])).toEqual([[gemVa({ handle: 1, operation: 1, flags: RWX, va: BASE, off: 0x1000, size: 0x2000 })]]);
  });

  it('a map over occupied space is OP_REPLACE, which splits like GPUVM', () => {
    expect(args([remap(va(BASE, 0x3000, B), va(BASE, 0x1000, B), va(BASE + 0x2000, 0x1000, B, 0x2000)), map(BASE + 0x1000, 0x1000, A)]))
      .toEqual([[gemVa({ handle: 1, operation: 4, flags: RWX, va: BASE + 0x1000, size: 0x1000 })]]);
  });

  it('an UNMAP op is OP_UNMAP of that BO at the VA start', () => {
    expect(args([unmap(va(BASE, 0x1000, B))])).toEqual([[gemVa({ handle: 2, operation: 2, va: BASE, size: 0x1000 })]]);
  });

  it('a REMAP (part of a VA) is OP_CLEAR of the hole', () => {
    expect(args([remap(va(BASE, 0x3000, B), va(BASE, 0x1000, B), va(BASE + 0x2000, 0x1000, B, 0x2000))]))
      .toEqual([[gemVa({ operation: 3, va: BASE + 0x1000, size: 0x1000 })]]);
  });

  it('sparse maps and unmaps are PRT without a handle', () => {
    expect(args([unmap(va(BASE, 0x1000, null)), map(BASE + 0x4000, 0x1000, null)])).toEqual([
      [gemVa({ operation: 2, flags: 1 << 4, va: BASE, size: 0x1000 })],
      [gemVa({ operation: 1, flags: 1 << 4, va: BASE + 0x4000, size: 0x1000 })],
    ]);
  });

  it('each request is its own ioctl, in order', () => {
    const calls = amdgpuGemVa(vm, [unmap(va(BASE, 0x1000, B)), map(BASE + 0x8000, 0x1000, A)]);
    expect(calls.map((c) => c.buffers[0]![8])).toEqual([2, 1]);
  });

  it('uses the VM mapping flags when given', () => {
    const [call] = amdgpuGemVa({ ...vm, mapFlags: AMDGPU.AMDGPU_VM_PAGE_READABLE }, [map(BASE, 0x1000, A)]);
    expect(call!.buffers[0]!.subarray(12, 16)).toEqual(new Uint8Array([2, 0, 0, 0]));
  });

  it('refuses syncobjs, which older kernels would drop without an error', () => {
    expect(() => amdgpuGemVa(vm, [map(BASE, 0x1000, A)], { signals: [{ handle: 1 }] }))
      .toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'amdgpu' }));
  });

  it('refuses a VA below the reserved bottom', () => {
    expect(() => amdgpuGemVa(vm, [map(0x1000, 0x1000, A)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_RANGE' }));
  });
});

describe('amdgpuGemVaRequest (one request, one ioctl)', () => {
  it('an unmap request over several VAs is one CLEAR from the first removed address to the last', () => {
    const call = amdgpuGemVaRequest(vm, [
      remap(va(BASE, 0x2000, A), va(BASE, 0x1000, A), null), unmap(va(BASE + 0x3000, 0x1000, B)), unmap(va(BASE + 0x4000, 0x2000, A, 0x1000)),
    ]);
    expect(call?.buffers).toEqual([gemVa({ operation: 3, va: BASE + 0x1000, size: 0x5000 })]);
  });

  it('a map request over occupied space is one REPLACE', () => {
    const call = amdgpuGemVaRequest(vm, [unmap(va(BASE, 0x1000, B)), map(BASE, 0x2000, A)]);
    expect(call?.buffers).toEqual([gemVa({ handle: 1, operation: 4, flags: RWX, va: BASE, size: 0x2000 })]);
  });

  it('an empty op list needs no ioctl', () => {
    expect(amdgpuGemVaRequest(vm, [])).toBeNull();
  });

  it('refuses a list holding two map requests', () => {
    expect(() => amdgpuGemVaRequest(vm, [map(BASE, 0x1000, A), map(BASE + 0x1000, 0x1000, B)]))
      .toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED' }));
  });
});
