// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { msmBindQueueNew, msmEnableVmBind, msmGemNew, msmQueueClose, msmVmBind, type MsmVm } from '../../../lib/backends/msm.js';
import { A, array, B, bytes, handleOf, map, remap, unmap, va, type At } from './layout-bytes.js';

const vm: MsmVm = { queueId: 4, hasPrr: false, rules: { pageSize: 0x1000n, vaStart: 0x1_0000_0000n, vaEnd: 0x2_0000_0000n }, handleOf };
const BASE = 0x1_0000_0000;
const op = (base: number, f: { op: number; handle?: number; off?: number; iova: number; range: number }): At[] =>
  [[base, 4, f.op], [base + 4, 4, f.handle ?? 0], [base + 8, 8, f.off ?? 0], [base + 16, 8, f.iova], [base + 24, 8, f.range]];
// flags, nr_ops, fence_fd, queue_id, counts and the two strides of drm_msm_vm_bind.
const head = (nrOps: number, nrIn = 0, nrOut = 0): At[] => [[4, 4, nrOps], [12, 4, 4], [32, 4, nrIn], [36, 4, nrOut], [40, 4, 16], [44, 4, 40]];

describe('msm ioctl numbers', () => {
  it.each([
    ['SET_PARAM', msmEnableVmBind(), 0x40186441],
    ['GEM_NEW', msmGemNew(0x1000n), 0xc0106442],
    ['SUBMITQUEUE_NEW', msmBindQueueNew(), 0xc00c644a],
    ['SUBMITQUEUE_CLOSE', msmQueueClose(1), 0x4004644b],
    ['VM_BIND', msmVmBind(vm, [map(BASE, 0x1000, A)])[0]!, 0xc058644d],
  ])('%s is 0x%s', (_name, call, request) => {
    expect(call.request).toBe(request);
    expect(call.driver).toBe('msm');
  });
});

describe('msm VM and BO payloads', () => {
  it('EN_VM_BIND is SET_PARAM on the 3D pipe, param 0x16, value 1', () => {
    expect(msmEnableVmBind().buffers).toEqual([bytes(24, [[0, 4, 0x10], [4, 4, 0x16], [8, 8, 1]])]);
  });

  it('a bind queue is a submitqueue with MSM_SUBMITQUEUE_VM_BIND', () => {
    expect(msmBindQueueNew().buffers).toEqual([bytes(12, [[0, 4, 2]])]);
  });

  it('SUBMITQUEUE_CLOSE takes the bare queue id', () => {
    expect(msmQueueClose(7).buffers).toEqual([bytes(4, [[0, 4, 7]])]);
  });

  it('GEM_NEW is write-combined by default', () => {
    expect(msmGemNew(0x4000n).buffers).toEqual([bytes(16, [[0, 8, 0x4000], [8, 4, 0x20000]])]);
  });

  it('a VM-private BO adds MSM_BO_NO_SHARE (0x4)', () => {
    expect(msmGemNew(0x4000n, undefined, true).buffers).toEqual([bytes(16, [[0, 8, 0x4000], [8, 4, 0x20004]])]);
  });
});

describe('msm VM_BIND translation', () => {
  it('a single request goes inline in the struct', () => {
    const [call] = msmVmBind(vm, [map(BASE + 0x2000, 0x1000, A, 0x3000)]);
    expect(call!.buffers).toEqual([bytes(88, [...head(1), ...op(48, { op: 1, handle: 1, off: 0x3000, iova: BASE + 0x2000, range: 0x1000 })])]);
    expect(call!.pointers).toEqual([]);
  });

  it('several requests go in an array behind ops', () => {
    const [call] = msmVmBind(vm, [remap(va(BASE, 0x3000, A), va(BASE, 0x1000, A), null), unmap(va(BASE + 0x8000, 0x1000, B))]);
    expect(call!.buffers).toEqual([
      bytes(88, head(2)),
      array(40, [op(0, { op: 0, iova: BASE + 0x1000, range: 0x2000 }), op(0, { op: 0, iova: BASE + 0x8000, range: 0x1000 })]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 48, target: 1 }]);
  });

  it('in and out syncobjs are arrays of drm_msm_syncobj', () => {
    const [call] = msmVmBind(vm, [map(BASE, 0x1000, A)], { waits: [{ handle: 11 }], signals: [{ handle: 12, point: 2n }] });
    expect(call!.buffers).toEqual([
      bytes(88, [...head(1, 1, 1), ...op(48, { op: 1, handle: 1, iova: BASE, range: 0x1000 })]),
      array(16, [[[0, 4, 11]]]),
      array(16, [[[0, 4, 12], [8, 8, 2]]]),
    ]);
    expect(call!.pointers).toEqual([{ buffer: 0, offset: 16, target: 1 }, { buffer: 0, offset: 24, target: 2 }]);
  });

  it('a sparse map is MAP_NULL where the GPU has PRR', () => {
    const [call] = msmVmBind({ ...vm, hasPrr: true }, [map(BASE, 0x1000, null)]);
    expect(call!.buffers[0]).toEqual(bytes(88, [...head(1), ...op(48, { op: 2, iova: BASE, range: 0x1000 })]));
  });

  it('refuses a sparse map without PRR', () => {
    expect(() => msmVmBind(vm, [map(BASE, 0x1000, null)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_UNSUPPORTED', driver: 'msm' }));
  });

  it('refuses an iova below MSM_PARAM_VA_START', () => {
    expect(() => msmVmBind(vm, [map(0x1000, 0x1000, A)])).toThrow(expect.objectContaining({ code: 'ERR_BIND_RANGE' }));
  });
});
