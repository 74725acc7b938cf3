// SPDX-License-Identifier: MIT
// The generic marshaller of native/driver_bind.cc without a DRM device: everything it refuses before any
// ioctl, and the driver check running before the driver-private ioctl (a non-DRM fd fails VERSION). The fd
// is /dev/null, where any ioctl fails with ENOTTY: a refusal with another code happened before any ioctl,
// and a call that gets as far as the driver check fails on DRM_IOCTL_VERSION.
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { ioctlCall, ioctlRequest, type IoctlCall } from '../../lib/backends/ioctl-call.js';
import { encodeStruct } from '../../lib/backends/uapi-struct.js';
import { XE_UAPI, xeGemCreate, xeVmBind, xeVmCreate, xeVmDestroy, type XeVm } from '../../lib/backends/xe.js';
import { NOUVEAU_UAPI, nouveauGemNew, nouveauVmBind, nouveauVmInit, type NouveauVm } from '../../lib/backends/nouveau.js';
import { PANTHOR_UAPI, panthorBoCreate, panthorVmBind, panthorVmCreate, panthorVmDestroy, type PanthorVm } from '../../lib/backends/panthor.js';
import { MSM, MSM_PARAM, MSM_UAPI, DRM_IOCTL_MSM_SET_PARAM, msmBindQueueNew, msmEnableVmBind, msmGemNew, msmQueueClose, msmVmBind, type MsmVm } from '../../lib/backends/msm.js';
import { AMDGPU_GEM_VA, AMDGPU_UAPI, DRM_IOCTL_AMDGPU_GEM_VA, amdgpuGemCreate } from '../../lib/backends/amdgpu.js';
import { VGPUVM_UAPI, vgpuvmBoCreate, vgpuvmBoEvict, vgpuvmBoQuery, vgpuvmStats, vgpuvmVmRw, vgpuvmVmValidate, vgpuvmVmBind, vgpuvmVmCreate, vgpuvmVmDestroy, vgpuvmVmQuery, vgpuvmQueueCreate, vgpuvmQueueDestroy, vgpuvmExec, vgpuvmJobQuery } from '../../lib/backends/vgpuvm.js';
import { A, B, handleOf, map, unmap, va } from '../unit/backends/layout-bytes.js';

interface DriverBindNative {
  driverIoctl(fd: number, driver: string, name: string, request: number, buffers: unknown, pointers: unknown): number;
  driverIoctlRules(): { driver: string; name: string; request: number; struct: string }[];
}
const { driverIoctl, driverIoctlRules } = native() as unknown as DriverBindNative;
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

const xeVm: XeVm = { vmId: 5, patIndex: 3, rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 48n }, handleOf };
const nouveauVm: NouveauVm = { kernel: { addr: 0xff_0000_0000n, size: 0x1_0000_0000n }, rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 40n }, handleOf };
const panthorVm: PanthorVm = { vmId: 2, rules: { pageSize: 0x1000n, vaStart: 0n, vaEnd: 1n << 32n }, handleOf };
const MSM_BASE = 0x1_0000_0000;
const msmVm: MsmVm = { queueId: 4, hasPrr: false, rules: { pageSize: 0x1000n, vaStart: 0x1_0000_0000n, vaEnd: 0x2_0000_0000n }, handleOf };
const syncs = { waits: [{ handle: 3, point: 7n }], signals: [{ handle: 4 }, { handle: 5 }] };
const twoOps = (base: number) => [unmap(va(base + 0x4000, 0x1000, B)), map(base + 0x10000, 0x2000, A, 0x1000)];

/** MSM_PARAM_COMM: `value` points to `len` bytes of a name (the one SET_PARAM where it is a pointer). */
function msmSetComm(): IoctlCall {
  const name = new TextEncoder().encode('node');
  const arg = encodeStruct(MSM_PARAM, { pipe: MSM.MSM_PIPE_3D0, param: 0x0c, len: name.byteLength });
  return ioctlCall('msm', DRM_IOCTL_MSM_SET_PARAM, arg, [name], [{ buffer: 0, offset: 8, target: 1 }]);
}

/** GEM_VA waiting on two syncobjs; the encoder refuses syncobjs (older kernels drop them), so it is built here. */
function amdgpuGemVaWaiting(): IoctlCall {
  const handles = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0]);
  const arg = encodeStruct(AMDGPU_GEM_VA, { operation: 1, va_address: 0x80_0000n, map_size: 0x1000n, num_syncobj_handles: 2 });
  return ioctlCall('amdgpu', DRM_IOCTL_AMDGPU_GEM_VA, arg, [handles], [{ buffer: 0, offset: 56, target: 1 }]);
}

/** One call per ioctl of the table, as the encoders (or, where they never fill a pointer, this file) build it. */
const validCalls: [string, () => IoctlCall][] = [
  ['DRM_IOCTL_XE_GEM_CREATE', () => xeGemCreate({ size: 0x1000n, placement: 1, cpuCaching: 1 })],
  ['DRM_IOCTL_XE_VM_CREATE', () => xeVmCreate()],
  ['DRM_IOCTL_XE_VM_DESTROY', () => xeVmDestroy(1)],
  ['DRM_IOCTL_XE_VM_BIND', () => xeVmBind(xeVm, twoOps(0), syncs)[0]!],
  ['DRM_IOCTL_NOUVEAU_VM_INIT', () => nouveauVmInit(nouveauVm.kernel)],
  ['DRM_IOCTL_NOUVEAU_VM_BIND', () => nouveauVmBind(nouveauVm, twoOps(0), syncs)[0]!],
  ['DRM_IOCTL_NOUVEAU_GEM_NEW', () => nouveauGemNew({ size: 0x1000n, domain: 2 })],
  ['DRM_IOCTL_PANTHOR_VM_CREATE', () => panthorVmCreate()],
  ['DRM_IOCTL_PANTHOR_VM_DESTROY', () => panthorVmDestroy(1)],
  ['DRM_IOCTL_PANTHOR_VM_BIND', () => panthorVmBind(panthorVm, twoOps(0), syncs)[0]!],
  ['DRM_IOCTL_PANTHOR_BO_CREATE', () => panthorBoCreate({ size: 0x1000n })],
  ['DRM_IOCTL_MSM_SET_PARAM', msmSetComm],
  ['DRM_IOCTL_MSM_GEM_NEW', () => msmGemNew(0x1000n)],
  ['DRM_IOCTL_MSM_SUBMITQUEUE_NEW', () => msmBindQueueNew()],
  ['DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE', () => msmQueueClose(1)],
  ['DRM_IOCTL_MSM_VM_BIND', () => msmVmBind(msmVm, twoOps(MSM_BASE), syncs)[0]!],
  ['DRM_IOCTL_AMDGPU_GEM_CREATE', () => amdgpuGemCreate({ size: 0x1000n, alignment: 0x1000n, domains: 4 })],
  ['DRM_IOCTL_AMDGPU_GEM_VA', amdgpuGemVaWaiting],
  ['DRM_IOCTL_VGPUVM_BO_CREATE', () => vgpuvmBoCreate(0x1000n)],
  ['DRM_IOCTL_VGPUVM_VM_CREATE', () => vgpuvmVmCreate({ start: 0n, range: 1n << 32n })],
  ['DRM_IOCTL_VGPUVM_VM_DESTROY', () => vgpuvmVmDestroy(1)],
  ['DRM_IOCTL_VGPUVM_VM_BIND', () => vgpuvmVmBind(1, [{ op: 'map', addr: 0n, range: 0x1000n, bo: { handle: 1, offset: 0n } }, { op: 'unmap', addr: 0x4000n, range: 0x1000n }])],
  ['DRM_IOCTL_VGPUVM_VM_QUERY', () => vgpuvmVmQuery(1, 'tree', 4)],
  ['DRM_IOCTL_VGPUVM_STATS', () => vgpuvmStats()],
  ['DRM_IOCTL_VGPUVM_BO_QUERY', () => vgpuvmBoQuery(1, 4)],
  ['DRM_IOCTL_VGPUVM_BO_EVICT', () => vgpuvmBoEvict(1, true)],
  ['DRM_IOCTL_VGPUVM_VM_VALIDATE', () => vgpuvmVmValidate(1)],
  ['DRM_IOCTL_VGPUVM_VM_RW', () => vgpuvmVmRw(1, 0x1000n, new Uint8Array(64), false)],
  ['DRM_IOCTL_VGPUVM_QUEUE_CREATE', () => vgpuvmQueueCreate(1)],
  ['DRM_IOCTL_VGPUVM_QUEUE_DESTROY', () => vgpuvmQueueDestroy(1)],
  ['DRM_IOCTL_VGPUVM_EXEC', () => vgpuvmExec([{ op: 'fill', dst: 0x1000n, size: 8n, value: 1n }, { op: 'checksum', src: 0x1000n, size: 8n, dst: 0x2000n }],
    { queueId: 1, inSyncs: [{ handle: 1 }], outSyncs: [{ handle: 2, point: 3n }] })],
  ['DRM_IOCTL_VGPUVM_JOB_QUERY', () => vgpuvmJobQuery(1, 1n)],
];

const run = (call: IoctlCall, buffers: readonly Uint8Array[] = call.buffers, pointers = call.pointers) => () =>
  driverIoctl(devNull, call.driver, call.ioctl.name, call.request, [...buffers], Uint32Array.from(pointers.flatMap((p) => [p.buffer, p.offset, p.target])));
const u32 = (bytes: Uint8Array, offset: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);
const setU32 = (bytes: Uint8Array, offset: number, value: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value, true);
const setU64 = (bytes: Uint8Array, offset: number, value: bigint) => new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(offset, value, true);
const reachedDriverCheck = expect.objectContaining({ syscall: 'ioctl', ioctl: 'DRM_IOCTL_VERSION', errno: 25 /* ENOTTY */ });
const refusedValue = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
const refusedRange = (message: RegExp) => expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(message) });
const RAW_ADDRESS = 0x7f12_3456_7000n;

describe('driverIoctl only issues the ioctls of its table', () => {
  const fromEncoders = [XE_UAPI, NOUVEAU_UAPI, PANTHOR_UAPI, MSM_UAPI, AMDGPU_UAPI, VGPUVM_UAPI]
    .flatMap((uapi) => uapi.ioctls.map((ioctl) => ({ driver: uapi.driver, name: ioctl.name, request: ioctlRequest(ioctl) })));

  it('the table holds exactly the ioctls the TypeScript encoders declare, with the same request numbers', () => {
    const table = driverIoctlRules().map(({ driver, name, request }) => ({ driver, name, request }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(table.sort(byName)).toEqual(fromEncoders.sort(byName));
  });

  it('every table entry has a call below', () => {
    expect(validCalls.map(([name]) => name).sort()).toEqual(driverIoctlRules().map((r) => r.name).sort());
  });

  it.each(validCalls)('%s as encoded passes every check and reaches the driver check', (_name, make) => {
    expect(run(make())).toThrow(reachedDriverCheck);
  });

  it('a driver-private request that is not in the table', () => {
    // DRM_IOCTL_VGPUVM_BO_INFO exists in the module but no encoder issues it.
    expect(() => driverIoctl(devNull, 'vgpuvm', 'DRM_IOCTL_VGPUVM_BO_INFO', 0xc0206441, [new Uint8Array(32)], new Uint32Array()))
      .toThrow(expect.objectContaining({ code: 'ERR_DRM_UNKNOWN_IOCTL' }));
  });

  it('a request of the table under another driver name (numbers overlap between drivers)', () => {
    const call = xeVmCreate();
    expect(() => driverIoctl(devNull, 'panthor', call.ioctl.name, call.request, [...call.buffers], new Uint32Array()))
      .toThrow(expect.objectContaining({ code: 'ERR_DRM_UNKNOWN_IOCTL' }));
  });

  it('a table request with other direction bits', () => {
    const call = xeVmDestroy(1);
    expect(() => driverIoctl(devNull, 'xe', call.ioctl.name, (call.request | 0x80000000) >>> 0, [...call.buffers], new Uint32Array()))
      .toThrow(expect.objectContaining({ code: 'ERR_DRM_UNKNOWN_IOCTL' }));
  });
});

describe('an ioctl without user pointers takes no pointer slot', () => {
  // (SUBMITQUEUE_CLOSE's 4-byte argument has no room for a slot at all: the bounds check refuses that one.)
  it.each(validCalls.filter(([, make]) => make().pointers.length === 0 && make().buffers[0]!.byteLength >= 8))('%s', (_name, make) => {
    const call = make();
    expect(run(call, [...call.buffers, new Uint8Array(16)], [{ buffer: 0, offset: 0, target: 1 }])).toThrow(refusedValue);
  });
});

/** A user pointer field of the table, in a call that fills it: where it is, and its count and stride fields. */
interface PointerField {
  readonly label: string;
  readonly make: () => IoctlCall;
  readonly buffer: number;
  readonly pointer: number;
  readonly count: number;
  readonly stride?: number;
}

function vgpuvmQueuedBind(): IoctlCall {
  return vgpuvmVmBind(1, [{ op: 'unmap', addr: 0x4000n, range: 0x1000n }], { queueId: 1, inSyncs: [{ handle: 1 }, { handle: 2, point: 7n }], outSyncs: [{ handle: 3 }] });
}

const pointerFields: PointerField[] = [
  { label: 'xe vector_of_binds', make: () => xeVmBind(xeVm, twoOps(0))[0]!, buffer: 0, pointer: 24, count: 20 },
  { label: 'xe syncs', make: () => xeVmBind(xeVm, twoOps(0), syncs)[0]!, buffer: 0, pointer: 112, count: 108 },
  { label: 'nouveau op_ptr', make: () => nouveauVmBind(nouveauVm, twoOps(0))[0]!, buffer: 0, pointer: 32, count: 0 },
  { label: 'nouveau wait_ptr', make: () => nouveauVmBind(nouveauVm, twoOps(0), syncs)[0]!, buffer: 0, pointer: 16, count: 8 },
  { label: 'nouveau sig_ptr', make: () => nouveauVmBind(nouveauVm, twoOps(0), syncs)[0]!, buffer: 0, pointer: 24, count: 12 },
  { label: 'panthor ops.array', make: () => panthorVmBind(panthorVm, twoOps(0))[0]!, buffer: 0, pointer: 16, count: 12, stride: 8 },
  { label: 'panthor ops[0].syncs.array (nested)', make: () => panthorVmBind(panthorVm, twoOps(0), syncs)[0]!, buffer: 1, pointer: 40, count: 36, stride: 32 },
  { label: 'panthor ops[1].syncs.array (nested)', make: () => panthorVmBind(panthorVm, twoOps(0), syncs)[0]!, buffer: 1, pointer: 48 + 40, count: 48 + 36, stride: 48 + 32 },
  { label: 'msm ops', make: () => msmVmBind(msmVm, twoOps(MSM_BASE))[0]!, buffer: 0, pointer: 48, count: 4, stride: 44 },
  { label: 'msm in_syncobjs', make: () => msmVmBind(msmVm, twoOps(MSM_BASE), syncs)[0]!, buffer: 0, pointer: 16, count: 32, stride: 40 },
  { label: 'msm out_syncobjs', make: () => msmVmBind(msmVm, twoOps(MSM_BASE), syncs)[0]!, buffer: 0, pointer: 24, count: 36, stride: 40 },
  { label: 'msm SET_PARAM value (COMM)', make: msmSetComm, buffer: 0, pointer: 8, count: 16 },
  { label: 'amdgpu input_fence_syncobj_handles', make: amdgpuGemVaWaiting, buffer: 0, pointer: 56, count: 52 },
  { label: 'vgpuvm VM_BIND ops', make: () => validCalls.find(([n]) => n === 'DRM_IOCTL_VGPUVM_VM_BIND')![1](), buffer: 0, pointer: 8, count: 4, stride: 16 },
  { label: 'vgpuvm VM_QUERY records (written)', make: () => vgpuvmVmQuery(1, 'ops', 3), buffer: 0, pointer: 16, count: 8 },
  { label: 'vgpuvm VM_BIND in_syncs', make: vgpuvmQueuedBind, buffer: 0, pointer: 40, count: 32 },
  { label: 'vgpuvm VM_BIND out_syncs', make: vgpuvmQueuedBind, buffer: 0, pointer: 48, count: 36 },
  { label: 'vgpuvm EXEC cmds', make: () => validCalls.find(([n]) => n === 'DRM_IOCTL_VGPUVM_EXEC')![1](), buffer: 0, pointer: 8, count: 4, stride: 16 },
  { label: 'vgpuvm EXEC in_syncs', make: () => validCalls.find(([n]) => n === 'DRM_IOCTL_VGPUVM_EXEC')![1](), buffer: 0, pointer: 32, count: 24 },
  { label: 'vgpuvm EXEC out_syncs', make: () => validCalls.find(([n]) => n === 'DRM_IOCTL_VGPUVM_EXEC')![1](), buffer: 0, pointer: 40, count: 28 },
];

/** The call without the slot that fills `field`, plus that slot. */
function split(call: IoctlCall, field: PointerField) {
  const slot = call.pointers.find((p) => p.buffer === field.buffer && p.offset === field.pointer);
  if (slot === undefined) throw new Error(`${field.label}: the call does not fill this pointer`);
  return { slot, others: call.pointers.filter((p) => p !== slot) };
}

describe.each(pointerFields)('user pointer $label', (field) => {
  it('a raw address in the field, with no slot filling it, is refused', () => {
    const call = field.make();
    const { others } = split(call, field);
    setU64(call.buffers[field.buffer]!, field.pointer, RAW_ADDRESS);
    expect(run(call, call.buffers, others)).toThrow(refusedValue);
  });

  it('a raw address under a declared slot is refused too', () => {
    const call = field.make();
    setU64(call.buffers[field.buffer]!, field.pointer, RAW_ADDRESS);
    expect(run(call)).toThrow(refusedValue);
  });

  it('a count with no buffer behind it is refused', () => {
    const call = field.make();
    expect(run(call, call.buffers, split(call, field).others)).toThrow(refusedRange(/points to no buffer/));
  });

  it('a count one element larger than the buffer is refused', () => {
    const call = field.make();
    const bytes = call.buffers[field.buffer]!;
    setU32(bytes, field.count, u32(bytes, field.count) + 1);
    expect(run(call)).toThrow(refusedRange(/past it/));
  });

  it('a buffer one byte short of count x stride is refused', () => {
    const call = field.make();
    const { slot } = split(call, field);
    const buffers = call.buffers.map((b, i) => (i === slot.target ? b.subarray(0, b.byteLength - 1) : b));
    expect(run(call, buffers)).toThrow(refusedRange(/past it/));
  });

});

describe.each(pointerFields.filter((f) => f.stride !== undefined))('user pointer $label with a stride field', (field) => {
  it('a stride below the kernel\'s element size is refused', () => {
    const call = field.make();
    const bytes = call.buffers[field.buffer]!;
    setU32(bytes, field.stride!, u32(bytes, field.stride!) - 1);
    expect(run(call)).toThrow(refusedRange(/below sizeof/));
  });

  it('a stride larger than the buffer\'s element spacing is refused', () => {
    const call = field.make();
    const bytes = call.buffers[field.buffer]!;
    setU32(bytes, field.stride!, u32(bytes, field.stride!) * 2);
    expect(run(call)).toThrow(refusedRange(/past it/));
  });
});

describe('fields whose values would make the kernel use an address of this process', () => {
  const xeBind = () => xeVmBind(xeVm, twoOps(0), syncs)[0]!;

  it.each([
    ['inline op: DRM_XE_VM_BIND_OP_MAP_USERPTR', () => xeVmBind(xeVm, [map(0, 0x1000, A)])[0]!, 0, 24 + 40, 2],
    ['inline op: DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR', () => xeVmBind(xeVm, [map(0, 0x1000, A)])[0]!, 0, 24 + 44, 1 << 5],
    ['vector op 1: DRM_XE_VM_BIND_OP_MAP_USERPTR', xeBind, 1, 80 + 40, 2],
    ['sync 2: DRM_XE_SYNC_TYPE_USER_FENCE', xeBind, 2, 96 + 8, 2],
  ] as const)('xe %s', (_name, make, buffer, offset, value) => {
    const call = make();
    setU32(call.buffers[buffer]!, offset, value);
    expect(run(call)).toThrow(refusedValue);
  });

  it.each([
    ['drm_xe_vm_bind.extensions', xeBind, 0, 0],
    ['the inline op\'s extensions', () => xeVmBind(xeVm, [map(0, 0x1000, A)])[0]!, 0, 24],
    ['op 1\'s extensions', xeBind, 1, 80],
    ['sync 0\'s extensions', xeBind, 2, 0],
    ['drm_xe_vm_create.extensions', () => xeVmCreate(), 0, 0],
    ['drm_xe_gem_create.extensions', () => xeGemCreate({ size: 0x1000n, placement: 1, cpuCaching: 1 }), 0, 0],
  ] as const)('xe %s: an extension chain pointer', (_name, make, buffer, offset) => {
    const call = make();
    setU64(call.buffers[buffer]!, offset, RAW_ADDRESS);
    expect(run(call)).toThrow(refusedValue);
  });

  it('msm SET_PARAM: a value with len 0 is a plain value, not a pointer', () => {
    expect(run(msmEnableVmBind())).toThrow(reachedDriverCheck);
  });

  it('vgpuvm VM_QUERY of an unknown record kind is refused (its record size is not known)', () => {
    const call = vgpuvmVmQuery(1, 'tree', 2);
    setU32(call.buffers[0]!, 4, 7);
    expect(run(call)).toThrow(refusedValue);
  });

  it('vgpuvm VM_QUERY records are sized by their kind: room for tree records is short for op records', () => {
    const call = vgpuvmVmQuery(1, 'tree', 2);
    setU32(call.buffers[0]!, 4, 1);
    expect(run(call)).toThrow(refusedRange(/past it/));
  });
});

describe('pointer slots must be pointer fields of the table', () => {
  it('a slot on a field that is not a pointer (xe vm_id)', () => {
    const call = xeVmBind(xeVm, twoOps(0))[0]!;
    expect(run(call, call.buffers, [...call.pointers, { buffer: 0, offset: 8, target: 1 }])).toThrow(refusedValue);
  });

  it('a slot on the inline op of a single-op bind (the union is not a pointer there)', () => {
    const call = xeVmBind(xeVm, [map(0, 0x1000, A)])[0]!;
    expect(run(call, [...call.buffers, new Uint8Array(80)], [{ buffer: 0, offset: 24, target: 1 }])).toThrow(refusedValue);
  });

  it('a slot inside an array element that is not a nested pointer', () => {
    const call = panthorVmBind(panthorVm, twoOps(0))[0]!;
    expect(run(call, [...call.buffers, new Uint8Array(16)], [...call.pointers, { buffer: 1, offset: 8, target: 2 }])).toThrow(refusedValue);
  });

  it('a slot whose target is the argument itself', () => {
    const call = nouveauVmBind(nouveauVm, twoOps(0))[0]!;
    expect(run(call, call.buffers, [{ buffer: 0, offset: 32, target: 0 }])).toThrow(refusedValue);
  });

  it('two slots on the same field', () => {
    const call = nouveauVmBind(nouveauVm, twoOps(0))[0]!;
    expect(run(call, call.buffers, [...call.pointers, ...call.pointers])).toThrow(refusedValue);
  });

  it('buffers larger in total than one call may copy (256 MiB)', () => {
    const call = vgpuvmVmQuery(1, 'tree', 1);
    expect(run(call, [call.buffers[0]!, new Uint8Array(2 ** 28 + 1)])).toThrow(refusedRange(/more than the/));
  });

  it('a refused call leaves the JS bytes as they were', () => {
    const call = xeVmBind(xeVm, twoOps(0), syncs)[0]!;
    setU32(call.buffers[0]!, 108, 99);
    const before = call.buffers.map((b) => Uint8Array.from(b));
    expect(run(call)).toThrow(refusedRange(/past it/));
    expect(call.buffers).toEqual(before);
  });
});
