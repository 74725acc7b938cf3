// SPDX-License-Identifier: MIT
// The vgpuvm backend without a device: how requests are encoded for VM_BIND, how a model op list becomes
// those requests, and how VM_QUERY records are read back. (Against the kernel: test/guest/vgpuvm-native.)
import { describe, expect, it } from 'vitest';
import { BindRefusedError } from '../../../lib/backends/bind-refused-error.js';
import { readField } from '../../../lib/backends/uapi-struct.js';
import {
  decodeVgpuvmJob, decodeVgpuvmOps, VGPUVM, VGPUVM_BIND_OP, VGPUVM_CMD, VGPUVM_EXEC, VGPUVM_JOB_QUERY, VGPUVM_OP, VGPUVM_SYNC, VGPUVM_VM_BIND,
  VGPUVM_VM_QUERY, VGPUVM_VM_RW, vgpuvmExec, vgpuvmJobQuery, vgpuvmVmBind, vgpuvmVmBindFromOps, vgpuvmVmQuery, vgpuvmVmRw, type VgpuvmCommand,
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

  it('encodes prefetch and madvise as ops 2 and 3 with only their range', () => {
    const ops = vgpuvmVmBind(2, [{ op: 'prefetch', addr: 0x1000n, range: 0x2000n }, { op: 'madvise', addr: 0x5000n, range: 0x1000n }]).buffers[1]!;
    const fields = (i: number) => ['op', 'flags', 'handle', 'addr', 'range', 'bo_offset'].map((f) => readField(VGPUVM_BIND_OP, element(ops, i), f));
    expect([VGPUVM.DRM_VGPUVM_BIND_OP_PREFETCH, VGPUVM.DRM_VGPUVM_BIND_OP_MADVISE]).toEqual([2, 3]);
    expect(fields(0)).toEqual([2n, 0n, 0n, 0x1000n, 0x2000n, 0n]);
    expect(fields(1)).toEqual([3n, 0n, 0n, 0x5000n, 0x1000n, 0n]);
  });

  it.each(['remap', 'MAP', '', 7, null, 'toString', '__proto__'])('refuses the op %j with a typed error', (op) => {
    const request = { op, addr: 0n, range: 0x1000n } as unknown as Parameters<typeof vgpuvmVmBind>[1][number];
    expect(() => vgpuvmVmBind(1, [request])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' }));
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
  it('reads a PREFETCH record as the mapping it names', () => {
    const call = vgpuvmVmQuery(1, 'ops', 1);
    new DataView(call.buffers[0]!.buffer).setUint32(VGPUVM_VM_QUERY.fields['count']!.offset, 1, true);
    const rec = new DataView(call.buffers[1]!.buffer);
    const va = VGPUVM_OP.fields['va']!.offset;
    rec.setUint32(0, VGPUVM.DRM_VGPUVM_OP_PREFETCH, true);
    rec.setBigUint64(va, 0x2000n, true);
    rec.setBigUint64(va + 8, 0x1000n, true);
    rec.setUint32(va + 32, VGPUVM.DRM_VGPUVM_VA_SPARSE, true);
    expect(decodeVgpuvmOps(call)).toEqual([{ kind: 'prefetch', va: { addr: 0x2000n, range: 0x1000n, offset: 0n, boId: 0n, flags: VGPUVM.DRM_VGPUVM_VA_SPARSE } }]);
  });

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

describe('queued vgpuvm calls (asynchronous VM_BIND, EXEC)', () => {
  const fill: VgpuvmCommand = { op: 'fill', dst: 0x1000n, size: 16n, value: 0x0102n };

  it('a queued VM_BIND carries the queue id and points at its sync arrays, binary and timeline', () => {
    const call = vgpuvmVmBind(4, [{ op: 'unmap', addr: 0x1000n, range: 0x1000n }], { queueId: 9, inSyncs: [{ handle: 5 }, { handle: 6, point: 12n }], outSyncs: [{ handle: 7 }] });
    const arg = call.buffers[0]!;
    expect(['queue_id', 'num_in_syncs', 'num_out_syncs'].map((f) => readField(VGPUVM_VM_BIND, arg, f))).toEqual([9n, 2n, 1n]);
    expect(call.pointers).toEqual([{ buffer: 0, offset: 8, target: 1 }, { buffer: 0, offset: 40, target: 2 }, { buffer: 0, offset: 48, target: 3 }]);
    const sync = (buffer: number, i: number) => ['handle', 'flags', 'point'].map((f) => readField(VGPUVM_SYNC, call.buffers[buffer]!.subarray(i * 16, i * 16 + 16), f));
    expect([sync(2, 0), sync(2, 1), sync(3, 0)]).toEqual([[5n, 0n, 0n], [6n, BigInt(VGPUVM.DRM_VGPUVM_SYNC_TIMELINE), 12n], [7n, 0n, 0n]]);
  });

  it('a synchronous VM_BIND leaves the queue fields zero', () => {
    const arg = vgpuvmVmBind(4, [{ op: 'unmap', addr: 0x1000n, range: 0x1000n }]).buffers[0]!;
    expect(['queue_id', 'num_in_syncs', 'num_out_syncs', 'in_syncs', 'out_syncs'].map((f) => readField(VGPUVM_VM_BIND, arg, f))).toEqual([0n, 0n, 0n, 0n, 0n]);
  });

  it('EXEC encodes each command; a fill has no src, copy and checksum no value', () => {
    const call = vgpuvmExec([fill, { op: 'copy', src: 0x1000n, dst: 0x2000n, size: 8n }, { op: 'checksum', src: 0x2000n, size: 8n, dst: 0x3000n }], { queueId: 2 });
    expect(['queue_id', 'count', 'stride', 'num_in_syncs', 'num_out_syncs'].map((f) => readField(VGPUVM_EXEC, call.buffers[0]!, f))).toEqual([2n, 3n, 40n, 0n, 0n]);
    expect(call.pointers).toEqual([{ buffer: 0, offset: 8, target: 1 }]);
    const cmd = (i: number) => ['op', 'src', 'dst', 'size', 'value'].map((f) => readField(VGPUVM_CMD, call.buffers[1]!.subarray(i * 40, i * 40 + 40), f));
    expect([cmd(0), cmd(1), cmd(2)]).toEqual([[1n, 0n, 0x1000n, 16n, 0x102n], [0n, 0x1000n, 0x2000n, 8n, 0n], [2n, 0x2000n, 0x3000n, 8n, 0n]]);
  });

  it.each([
    ['no commands', () => vgpuvmExec([], { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['too many commands', () => vgpuvmExec(Array.from({ length: VGPUVM.DRM_VGPUVM_EXEC_MAX_CMDS + 1 }, () => fill), { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['commands that are not an array', () => vgpuvmExec('fill' as never, { queueId: 1 }), 'ERR_INVALID_ARG_TYPE'],
    ['an unknown op', () => vgpuvmExec([{ op: 'draw' } as never], { queueId: 1 }), 'ERR_INVALID_ARG_TYPE'],
    ['a null command', () => vgpuvmExec([null as never], { queueId: 1 }), 'ERR_INVALID_ARG_TYPE'],
    ['size 0', () => vgpuvmExec([{ ...fill, size: 0n }], { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['a size past the limit', () => vgpuvmExec([{ ...fill, size: BigInt(VGPUVM.DRM_VGPUVM_CMD_MAX_SIZE) + 1n }], { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['a negative address', () => vgpuvmExec([{ ...fill, dst: -1n }], { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['a value past u64', () => vgpuvmExec([{ ...fill, value: 1n << 64n }], { queueId: 1 }), 'ERR_OUT_OF_RANGE'],
    ['queue id 0', () => vgpuvmExec([fill], { queueId: 0 }), 'ERR_OUT_OF_RANGE'],
    ['a null queue', () => vgpuvmExec([fill], null as never), 'ERR_INVALID_ARG_TYPE'],
    ['a sync with handle 0', () => vgpuvmExec([fill], { queueId: 1, inSyncs: [{ handle: 0 }] }), 'ERR_OUT_OF_RANGE'],
    ['a null sync', () => vgpuvmExec([fill], { queueId: 1, outSyncs: [null as never] }), 'ERR_INVALID_ARG_TYPE'],
    ['a negative point', () => vgpuvmExec([fill], { queueId: 1, outSyncs: [{ handle: 1, point: -1n }] }), 'ERR_OUT_OF_RANGE'],
    ['syncs that are not an array', () => vgpuvmExec([fill], { queueId: 1, inSyncs: 3 as never }), 'ERR_INVALID_ARG_TYPE'],
    ['too many syncs', () => vgpuvmExec([fill], { queueId: 1, inSyncs: Array.from({ length: VGPUVM.DRM_VGPUVM_MAX_SYNCS + 1 }, () => ({ handle: 1 })) }), 'ERR_OUT_OF_RANGE'],
    ['a queued bind with a bad queue', () => vgpuvmVmBind(1, [{ op: 'unmap', addr: 0n, range: 0x1000n }], { queueId: 1.5 }), 'ERR_OUT_OF_RANGE'],
  ])('refuses %s with a typed error before any ioctl', (_what, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it('decodes a JOB_QUERY: a done job with a fault, and a pending one with none', () => {
    const call = vgpuvmJobQuery(3, 17n);
    expect(['queue_id', 'job_id'].map((f) => readField(VGPUVM_JOB_QUERY, call.buffers[0]!, f))).toEqual([3n, 17n]);
    const view = new DataView(call.buffers[0]!.buffer, call.buffers[0]!.byteOffset);
    view.setUint32(16, 1, true);
    view.setInt32(20, -14, true);
    view.setUint32(24, 2, true);
    view.setBigUint64(32, 0x4000n, true);
    expect(decodeVgpuvmJob(call)).toEqual({ done: true, error: -14, faultCmd: 2, faultAddr: 0x4000n });
    view.setUint32(16, 0, true);
    view.setInt32(20, 0, true);
    view.setUint32(24, 0xffff_ffff, true);
    view.setBigUint64(32, 0xffff_ffff_ffff_ffffn, true);
    expect(decodeVgpuvmJob(call)).toEqual({ done: false, error: 0, faultCmd: null, faultAddr: null });
  });
});
