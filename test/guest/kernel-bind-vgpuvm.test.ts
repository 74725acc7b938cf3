// SPDX-License-Identifier: MIT
// The kernel VM_BIND backend path end to end on a real kernel: lib/gpuvm op lists, translated to bind
// requests (lib/backends/bind-requests.ts), encoded, issued by KernelVmBindBackend through native
// driverIoctl (pointer slots patched, driver name checked), into the vgpuvm test module, which runs the
// kernel's own drm_gpuvm. After every request the kernel's ops (keep hints included) and its tree must equal
// the model's. vgpuvm is this project's test driver, not one of the five hardware drivers: this proves the
// translation and the marshalling, not any hardware driver's uAPI.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { IoctlCall } from '../../lib/backends/ioctl-call.js';
import { issueIoctlCall } from '../../lib/backends/ioctl-call.js';
import { KernelVmBindBackend } from '../../lib/backends/kernel-vm-bind-backend.js';
import {
  decodeVgpuvmOps, decodeVgpuvmTree, readVgpuvmField, vgpuvmBinder, vgpuvmBoCreate, vgpuvmVmCreate, vgpuvmVmDestroy, vgpuvmVmQuery,
  type VgpuvmVa,
} from '../../lib/backends/vgpuvm.js';
import { xeVmCreate } from '../../lib/backends/xe.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { GemObject } from '../../lib/gpuvm/gem.js';
import { GpuVm } from '../../lib/gpuvm/gpuvm.js';
import type { GpuVaOp, GpuVaOps } from '../../lib/gpuvm/ops.js';
import { native } from '../../lib/native.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { smallWorld, type World } from '../support/gpuvm-arbitraries.js';

const setup = await findVgpuvm();
if (!setup.ready) process.stderr.write(`kernel bind through vgpuvm: NOT RUN (skipped, not passed): ${setup.reason}\n`);

describe.skipIf(!setup.ready)('KernelVmBindBackend on the vgpuvm module (the kernel runs drm_gpuvm)', () => {
  const device = setup.ready ? DrmDevice.open(setup.node) : (undefined as never);
  afterAll(() => device?.close());

  const issue = (call: IoctlCall): IoctlCall => {
    issueIoctlCall(device, call);
    return call;
  };
  /** VM_QUERY twice: the count, then the records, which the kernel writes through a pointer slot. */
  const query = (vmId: number, what: 'tree' | 'ops'): IoctlCall => {
    const count = Number(readVgpuvmField(issue(vgpuvmVmQuery(vmId, what, 0)), 'count'));
    return issue(vgpuvmVmQuery(vmId, what, count));
  };

  it('refuses a payload built for another driver in TypeScript', () => {
    expect(() => issueIoctlCall(device, xeVmCreate())).toThrow(expect.objectContaining({ code: 'ERR_DRM_NOT_SUPPORTED' }));
  });

  it('refuses it again in native code, which asks DRM_IOCTL_VERSION first (xe VM_CREATE is vgpuvm VM_DESTROY by number)', () => {
    const call = xeVmCreate();
    const { driverIoctl } = native() as unknown as {
      driverIoctl(fd: number, driver: string, name: string, request: number, buffers: Uint8Array[], pointers: Uint32Array): number;
    };
    expect(() => driverIoctl(device.fd, 'xe', call.ioctl.name, call.request, [...call.buffers], new Uint32Array()))
      .toThrow(expect.objectContaining({ code: 'ERR_DRM_WRONG_DRIVER', driver: 'vgpuvm' }));
  });

  it('random request sequences: after every request the kernel ops and tree equal the model', async () => {
    let requests = 0;
    await fc.assert(fc.asyncProperty(smallWorld(16), async (world: World) => {
      const bos = new Map<string, { obj: GemObject; handle: number; id: bigint }>();
      for (const [name, size] of world.config.bos) {
        const call = issue(vgpuvmBoCreate(size));
        bos.set(name, { obj: new GemObject(size, name), handle: Number(readVgpuvmField(call, 'handle')), id: readVgpuvmField(call, 'bo_id') });
      }
      const byObj = new Map([...bos.values()].map((b) => [b.obj, b]));
      const { start, range, reserve } = world.config;
      const vmId = Number(readVgpuvmField(issue(vgpuvmVmCreate({ start, range, reserve })), 'vm_id'));
      const model = new GpuVm(reserve === null ? { start, range } : { start, range, reserveOffset: reserve.start, reserveRange: reserve.range });
      const backend = new KernelVmBindBackend(device, vgpuvmBinder({ vmId, handleOf: (obj) => byObj.get(obj)!.handle }));

      // Both sides in one shape: the kernel names BOs by bo_id, the model by GemObject.
      const ours = (s: { addr: bigint; range: bigint; obj: GemObject | null; offset: bigint } | null) =>
        s === null ? null : { addr: s.addr, range: s.range, offset: s.offset, boId: s.obj === null ? 0n : byObj.get(s.obj)!.id };
      const theirs = (v: VgpuvmVa | null) => (v === null ? null : { addr: v.addr, range: v.range, offset: v.offset, boId: v.boId });
      const modelOp = (op: GpuVaOp) => {
        if (op.type === 'map') return { kind: 'map', va: ours(op) };
        if (op.type === 'unmap') return { kind: 'unmap', va: ours(op.va), keep: op.keep };
        if (op.type === 'remap') return { kind: 'remap', va: ours(op.unmap.va), keep: op.unmap.keep, prev: ours(op.prev), next: ours(op.next) };
        throw new Error('prefetch in a map or unmap list');
      };
      try {
        for (const request of world.requests) {
          let ops: GpuVaOps;
          try {
            ops = request.kind === 'unmap'
              ? model.smUnmapOps(request.addr, request.range)
              : model.smMapOps({ ...request.req, obj: request.req.bo === null ? null : bos.get(request.req.bo)!.obj });
          } catch {
            continue;
          }
          if (ops.length === 0) continue;
          await backend.commit(model, ops);
          const kernelOps = decodeVgpuvmOps(query(vmId, 'ops')).map((op) => (op.kind === 'map'
            ? { kind: op.kind, va: theirs(op.va) }
            : op.kind === 'unmap'
              ? { kind: op.kind, va: theirs(op.va), keep: op.keep }
              : op.kind === 'remap'
                ? { kind: op.kind, va: theirs(op.va), keep: op.keep, prev: theirs(op.prev), next: theirs(op.next) }
                : { kind: op.kind, va: theirs(op.va) }));
          expect(kernelOps).toEqual(ops.ops.map(modelOp));
          model.apply(ops);
          // The kernel never lists its reserved node; the model's tree holds it as a VA.
          expect(decodeVgpuvmTree(query(vmId, 'tree')).map(theirs))
            .toEqual([...model.vas()].filter((v) => v !== model.kernelAllocNode).map(ours));
          requests += 1;
        }
      } finally {
        issue(vgpuvmVmDestroy(vmId));
      }
    }), { numRuns: 100 });
    // Enough non-empty requests went through the kernel for the property to mean something.
    expect(requests).toBeGreaterThan(250);
  }, 300_000);
});
