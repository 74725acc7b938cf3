// SPDX-License-Identifier: MIT
// The claim bindRequestsFromOps rests on: a VM_BIND driver running drm_gpuvm over the same tree regenerates
// the op list from the requests. Checked with lib/gpuvm standing in for the driver's drm_gpuvm: VM A turns
// random requests into op lists, the lists are translated, and VM B replays the translated requests. B must
// generate the very same ops (keep hints included) and end with the same tree, request after request.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindRequestsFromOps } from '../../../lib/backends/bind-requests.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { GpuVaOp, GpuVaOps } from '../../../lib/gpuvm/ops.js';
import { smallWorld, type World } from '../../support/gpuvm-arbitraries.js';

function makeVm(world: World): GpuVm {
  const { start, range, reserve } = world.config;
  return new GpuVm(reserve === null ? { start, range } : { start, range, reserveOffset: reserve.start, reserveRange: reserve.range });
}

type Span = { addr: bigint; range: bigint; obj: GemObject | null; offset: bigint };
const span = (s: Span) => ({ addr: s.addr, range: s.range, obj: s.obj, offset: s.offset });
const plain = (op: GpuVaOp) => {
  switch (op.type) {
    case 'map': return { type: op.type, ...span(op) };
    case 'unmap': return { type: op.type, va: span(op.va), keep: op.keep };
    case 'remap': return { type: op.type, va: span(op.unmap.va), keep: op.unmap.keep, prev: op.prev && span(op.prev), next: op.next && span(op.next) };
    case 'prefetch': return { type: op.type };
  }
};
const tree = (vm: GpuVm) => [...vm.vas()].map(span);

/** Generates A's ops for a request, or null when GPUVM refuses the request (bad range and the like). */
function opsFor(vm: GpuVm, request: World['requests'][number], bos: Map<string, GemObject>): GpuVaOps | null {
  try {
    if (request.kind === 'unmap') return vm.smUnmapOps(request.addr, request.range);
    const { addr, range, bo, offset } = request.req;
    return vm.smMapOps({ addr, range, obj: bo === null ? null : bos.get(bo)!, offset });
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_GPUVM') || err instanceof RangeError) return null;
    throw err;
  }
}

describe('bind requests regenerate the op list on a driver running drm_gpuvm', () => {
  it('request by request, the replayed ops and the tree are identical', () => {
    const seen = { mapOverFree: 0, mapOverOccupied: 0, keep: 0, unmapWhole: 0, unmapPart: 0 };
    fc.assert(fc.property(smallWorld(), (world) => {
      const bos = new Map([...world.config.bos].map(([name, size]) => [name, new GemObject(size, name)]));
      const handles = new Map([...bos.values()].map((obj, i) => [obj as object, i + 1]));
      const objOf = new Map([...handles].map(([obj, h]) => [h, obj as GemObject]));
      const gem = { handleOf: (obj: object) => handles.get(obj)! };
      const a = makeVm(world);
      const b = makeVm(world);
      for (const request of world.requests) {
        const ops = opsFor(a, request, bos);
        if (ops === null) continue;
        const expected = ops.ops.map(plain);
        const translated = bindRequestsFromOps('gpuvm', ops, gem);
        a.apply(ops);

        const replayed: ReturnType<typeof plain>[] = [];
        for (const req of translated) {
          const regenerated = req.kind === 'map'
            ? b.smMapOps({ addr: req.addr, range: req.range, obj: req.handle === null ? null : objOf.get(req.handle)!, offset: req.offset })
            : b.smUnmapOps(req.addr, req.range);
          if (req.kind === 'map') {
            expect(req.overOccupied).toBe(regenerated.length > 1);
            seen[req.overOccupied ? 'mapOverOccupied' : 'mapOverFree'] += 1;
          } else {
            seen[req.wholeHandle === undefined ? 'unmapPart' : 'unmapWhole'] += 1;
          }
          seen.keep += regenerated.ops.filter((op) => (op.type === 'unmap' && op.keep) || (op.type === 'remap' && op.unmap.keep)).length;
          replayed.push(...regenerated.ops.map(plain));
          b.apply(regenerated);
        }
        expect(replayed).toEqual(expected);
        expect(tree(b)).toEqual(tree(a));
      }
    }), { numRuns: 300 });
    // The worlds must have exercised every kind of translation, or the property proved little.
    for (const [kind, count] of Object.entries(seen)) expect(count, kind).toBeGreaterThan(50);
  });
});
