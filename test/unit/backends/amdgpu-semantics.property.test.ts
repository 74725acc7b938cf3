// SPDX-License-Identifier: MIT
// amdgpu has its own VM, not drm_gpuvm, so the regeneration argument of bind-requests.ts does not cover it.
// This checks the amdgpu translation against amdgpu's GEM_VA rules as its uAPI documents them (MAP needs
// free space, REPLACE clears then maps, CLEAR splits at the edges, UNMAP names one whole mapping): a model
// of those rules, fed the decoded ioctls, must end with GPUVM's tree after every request. A model of the
// rules, not the kernel: it proves the translation's reasoning (REPLACE, one CLEAR per unmap request), not
// that amdgpu behaves so; no amdgpu hardware was available.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AMDGPU, AMDGPU_GEM_VA, amdgpuGemVaRequest } from '../../../lib/backends/amdgpu.js';
import { readField } from '../../../lib/backends/uapi-struct.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { GpuVaOps } from '../../../lib/gpuvm/ops.js';
import { smallWorld } from '../../support/gpuvm-arbitraries.js';

/** One amdgpu mapping; handle 0 is a PRT (sparse) mapping. */
interface AmdgpuMapping { start: bigint; end: bigint; handle: number; offset: bigint }

/** amdgpu's VA rules for one file's VM, as the GEM_VA uAPI states them; throws where the kernel fails. */
class AmdgpuVaRules {
  mappings: AmdgpuMapping[] = [];

  gemVa(bytes: Uint8Array): void {
    const f = (name: string) => readField(AMDGPU_GEM_VA, bytes, name);
    const operation = Number(f('operation'));
    const prt = (Number(f('flags')) & AMDGPU.AMDGPU_VM_PAGE_PRT) !== 0;
    const handle = prt ? 0 : Number(f('handle'));
    const start = f('va_address');
    const end = start + f('map_size');
    switch (operation) {
      case AMDGPU.AMDGPU_VA_OP_MAP:
        if (this.mappings.some((m) => m.start < end && start < m.end)) throw new Error('EINVAL: MAP over a mapping');
        this.insert({ start, end, handle, offset: f('offset_in_bo') });
        return;
      case AMDGPU.AMDGPU_VA_OP_REPLACE:
        this.clear(start, end);
        this.insert({ start, end, handle, offset: f('offset_in_bo') });
        return;
      case AMDGPU.AMDGPU_VA_OP_CLEAR:
        this.clear(start, end);
        return;
      case AMDGPU.AMDGPU_VA_OP_UNMAP: {
        const i = this.mappings.findIndex((m) => m.start === start && m.handle === handle);
        if (i < 0) throw new Error('ENOENT: UNMAP of no mapping');
        this.mappings.splice(i, 1);
        return;
      }
      default:
        throw new Error(`EINVAL: operation ${operation}`);
    }
  }

  private insert(m: AmdgpuMapping): void {
    this.mappings.push(m);
    this.mappings.sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  private clear(start: bigint, end: bigint): void {
    const kept: AmdgpuMapping[] = [];
    for (const m of this.mappings) {
      if (m.end <= start || end <= m.start) kept.push(m);
      else {
        if (m.start < start) kept.push({ ...m, end: start });
        if (end < m.end) kept.push({ ...m, start: end, offset: m.offset + (end - m.start) });
      }
    }
    this.mappings = kept.sort((a, b) => (a.start < b.start ? -1 : 1));
  }
}

describe('amdgpu GEM_VA translation against amdgpu VA rules', () => {
  it('one GEM_VA per request leaves amdgpu with GPUVM tree, request after request', () => {
    const seen = { map: 0, replace: 0, clear: 0 };
    fc.assert(fc.property(smallWorld(), (world) => {
      const { start, range, reserve } = world.config;
      const objs = new Map([...world.config.bos].map(([name, size], i) => [name, { obj: new GemObject(size, name), handle: i + 1 }]));
      const handles = new Map([...objs.values()].map((o) => [o.obj, o.handle]));
      const vm = { rules: { pageSize: 0x1000n, vaStart: start, vaEnd: start + range }, handleOf: (obj: GemObject) => handles.get(obj)! };
      const gpuvm = new GpuVm(reserve === null ? { start, range } : { start, range, reserveOffset: reserve.start, reserveRange: reserve.range });
      const amdgpu = new AmdgpuVaRules();
      for (const request of world.requests) {
        let ops: GpuVaOps;
        try {
          ops = request.kind === 'unmap'
            ? gpuvm.smUnmapOps(request.addr, request.range)
            : gpuvm.smMapOps({ ...request.req, obj: request.req.bo === null ? null : objs.get(request.req.bo)!.obj });
        } catch {
          continue;
        }
        const call = amdgpuGemVaRequest(vm, ops);
        gpuvm.apply(ops);
        if (call === null) continue;
        const operation = Number(readField(AMDGPU_GEM_VA, call.buffers[0]!, 'operation'));
        seen[operation === AMDGPU.AMDGPU_VA_OP_MAP ? 'map' : operation === AMDGPU.AMDGPU_VA_OP_REPLACE ? 'replace' : 'clear'] += 1;
        amdgpu.gemVa(call.buffers[0]!);
        const tree = [...gpuvm.vas()].filter((v) => v !== gpuvm.kernelAllocNode)
          .map((v) => ({ start: v.addr, end: v.addr + v.range, handle: v.obj === null ? 0 : handles.get(v.obj)!, offset: v.offset }));
        expect(amdgpu.mappings).toEqual(tree);
      }
    }), { numRuns: 300 });
    for (const [kind, count] of Object.entries(seen)) expect(count, kind).toBeGreaterThan(50);
  });
});
