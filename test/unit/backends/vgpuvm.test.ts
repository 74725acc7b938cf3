// SPDX-License-Identifier: MIT
// The vgpuvm backend without a device: how requests are encoded for VM_BIND, how a model op list becomes
// those requests, and how VM_QUERY records are read back. (Against the kernel: test/guest/vgpuvm-native.)
import { describe, expect, it } from 'vitest';
import { BindRefusedError } from '../../../lib/backends/bind-refused-error.js';
import { readField } from '../../../lib/backends/uapi-struct.js';
import {
  decodeVgpuvmOps, VGPUVM, VGPUVM_BIND_OP, VGPUVM_OP, VGPUVM_VM_BIND, VGPUVM_VM_QUERY, VGPUVM_VM_RW, vgpuvmVmBind, vgpuvmVmBindFromOps, vgpuvmVmQuery,
  vgpuvmVmRw,
} from '../../../lib/backends/vgpuvm.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';

const element = (bytes: Uint8Array, i: number): Uint8Array => bytes.subarray(i * VGPUVM_BIND_OP.size, (i + 1) * VGPUVM_BIND_OP.size);

describe('vgpuvmVmBind', () => {
  it('encodes each request as a drm_vgpuvm_bind_op and points the argument at the array', () => {
    const call = vgpuvmVmBind(7, [
      { op: 'map', addr: 0x1000n, range: 0x2000n, bo: { handle: 3, offset: 0x4000n } },
      { op: 'map', addr: 0x8000n, range: 0x1000n, bo: null },
      { op: 'unmap', addr: 0x1000n, range: 0x1000n },
    ]);
    const arg = call.buffers[0]!;
    expect([readField(VGPUVM_VM_BIND, arg, 'vm_id'), readField(VGPUVM_VM_BIND, arg, 'count'), readField(VGPUVM_VM_BIND, arg, 'stride')]).toEqual([7n, 3n, 40n]);
    expect(call.pointers).toEqual([{ buffer: 0, offset: 8, target: 1 }]);
    const ops = call.buffers[1]!;
    const fields = (i: number) => ['op', 'flags', 'handle', 'addr', 'range', 'bo_offset'].map((f) => readField(VGPUVM_BIND_OP, element(ops, i), f));
    expect(fields(0)).toEqual([0n, 0n, 3n, 0x1000n, 0x2000n, 0x4000n]);
    expect(fields(1)).toEqual([0n, BigInt(VGPUVM.DRM_VGPUVM_BIND_SPARSE), 0n, 0x8000n, 0x1000n, 0n]);
    expect(fields(2)).toEqual([1n, 0n, 0n, 0x1000n, 0x1000n, 0n]);
  });

  it.each([0, VGPUVM.DRM_VGPUVM_BIND_MAX_OPS + 1])('refuses %i requests before any ioctl', (count) => {
    const requests = Array.from({ length: count }, () => ({ op: 'unmap' as const, addr: 0n, range: 0x1000n }));
    expect(() => vgpuvmVmBind(1, requests)).toThrow(RangeError);
  });

  it('refuses an address that is not a u64', () => {
    expect(() => vgpuvmVmBind(1, [{ op: 'unmap', addr: -1n, range: 0x1000n }])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('vgpuvmVmBindFromOps', () => {
  const setup = () => {
    const vm = new GpuVm({ name: 't', start: 0n, range: 1n << 32n, reserveOffset: 0n, reserveRange: 0n });
    const a = new GemObject(0x100000n, 'a');
    vm.apply(vm.smMapOps({ addr: 0x10000n, range: 0x4000n, obj: a, offset: 0n }));
    return { vm, a, target: { vmId: 5, handleOf: (obj: GemObject) => (obj === a ? 9 : 10) } };
  };
  const requestsOf = (calls: ReturnType<typeof vgpuvmVmBindFromOps>) =>
    calls.map((call) => Array.from({ length: Number(readField(VGPUVM_VM_BIND, call.buffers[0]!, 'count')) },
      (_, i) => ['op', 'handle', 'addr', 'range', 'bo_offset'].map((f) => readField(VGPUVM_BIND_OP, element(call.buffers[1]!, i), f))));

  it('sends a map over occupied VA as the one map request that regenerates its remaps', () => {
    const { vm, a, target } = setup();
    const ops = vm.smMapOps({ addr: 0x11000n, range: 0x1000n, obj: a, offset: 0x1000n });
    expect(requestsOf(vgpuvmVmBindFromOps(target, ops.ops))).toEqual([[[0n, 9n, 0x11000n, 0x1000n, 0x1000n]]]);
  });

  it('sends a split by an unmap as an unmap of the hole', () => {
    const { vm, target } = setup();
    const ops = vm.smUnmapOps(0x11000n, 0x1000n);
    expect(requestsOf(vgpuvmVmBindFromOps(target, ops.ops))).toEqual([[[1n, 0n, 0x11000n, 0x1000n, 0n]]]);
  });

  it('needs no ioctl for an empty op list', () => {
    const { vm, target } = setup();
    expect(vgpuvmVmBindFromOps(target, vm.smUnmapOps(0x80000n, 0x1000n).ops)).toEqual([]);
  });

  it('refuses PREFETCH ops with BindRefusedError', () => {
    const { vm, target } = setup();
    expect(() => vgpuvmVmBindFromOps(target, vm.prefetchOps(0x10000n, 0x1000n).ops)).toThrow(BindRefusedError);
  });
});

describe('decodeVgpuvmOps', () => {
  it('reads a remap without prev as prev null, and stops at the records that arrived', () => {
    const call = vgpuvmVmQuery(1, 'ops', 2);
    const arg = new DataView(call.buffers[0]!.buffer);
    arg.setUint32(VGPUVM_VM_QUERY.fields['count']!.offset, 1, true);
    const rec = new DataView(call.buffers[1]!.buffer);
    rec.setUint32(0, VGPUVM.DRM_VGPUVM_OP_REMAP, true);
    rec.setUint32(4, 1, true);
    const va = VGPUVM_OP.fields['va']!.offset;
    const next = VGPUVM_OP.fields['next']!.offset;
    rec.setBigUint64(va, 0x1000n, true);
    rec.setBigUint64(va + 8, 0x3000n, true);
    rec.setBigUint64(va + 24, 4n, true);
    rec.setBigUint64(next, 0x3000n, true);
    rec.setBigUint64(next + 8, 0x1000n, true);
    rec.setBigUint64(next + 16, 0x2000n, true);
    rec.setBigUint64(next + 24, 4n, true);
    expect(decodeVgpuvmOps(call)).toEqual([{
      kind: 'remap', keep: true, prev: null,
      va: { addr: 0x1000n, range: 0x3000n, offset: 0n, boId: 4n, flags: 0 },
      next: { addr: 0x3000n, range: 0x1000n, offset: 0x2000n, boId: 4n, flags: 0 },
    }]);
  });
});

describe('vgpuvmVmRw', () => {
  it('encodes a READ or a WRITE of the bytes of data, the data field pointing at them', () => {
    const data = new Uint8Array(64);
    const read = vgpuvmVmRw(3, 0x1000n, data, false);
    const field = (call: typeof read, name: string) => readField(VGPUVM_VM_RW, call.buffers[0]!, name);
    expect([field(read, 'vm_id'), field(read, 'flags'), field(read, 'addr'), field(read, 'size')]).toEqual([3n, BigInt(VGPUVM.DRM_VGPUVM_RW_READ), 0x1000n, 64n]);
    expect(read.buffers[1]).toBe(data);
    expect(read.pointers).toEqual([{ buffer: 0, offset: VGPUVM_VM_RW.fields['data']!.offset, target: 1 }]);
    expect(field(vgpuvmVmRw(3, 0n, data, true), 'flags')).toBe(BigInt(VGPUVM.DRM_VGPUVM_RW_WRITE));
  });

  it.each([
    ['data that is not a Uint8Array', () => vgpuvmVmRw(1, 0n, [1, 2] as never, false), 'ERR_INVALID_ARG_TYPE'],
    ['empty data', () => vgpuvmVmRw(1, 0n, new Uint8Array(0), false), 'ERR_OUT_OF_RANGE'],
    ['data past DRM_VGPUVM_RW_MAX_SIZE', () => vgpuvmVmRw(1, 0n, new Uint8Array(VGPUVM.DRM_VGPUVM_RW_MAX_SIZE + 1), false), 'ERR_OUT_OF_RANGE'],
    ['an address of 2^64', () => vgpuvmVmRw(1, 1n << 64n, new Uint8Array(1), false), 'ERR_OUT_OF_RANGE'],
    ['a negative address', () => vgpuvmVmRw(1, -1n, new Uint8Array(1), false), 'ERR_OUT_OF_RANGE'],
    ['a VM id of 2^32', () => vgpuvmVmRw(2 ** 32, 0n, new Uint8Array(1), false), 'ERR_OUT_OF_RANGE'],
  ])('refuses %s with a typed error', (_what, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });
});
