// Test helper: everything a failed call must leave unchanged, in one comparable value.
import { TrackOnlyBackend } from '../../../lib/backends/track-only.js';
import type { VmBo } from '../../../lib/gpuvm/vm-bo.js';
import type { Vm } from '../../../lib/vm/index.js';

const ids = new WeakMap<object, number>();
let nextId = 1;
const idOf = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};

const pair = (vm: Vm, p: VmBo) => ({ id: idOf(p), bo: p.obj.name, state: p.state, refcount: p.refcount, vas: p.vaCount, refs: vm.refsHeld(p), evicted: vm.isEvicted(p) });

/** The VM's observable state: mappings (by identity), pairs (by identity) with refcounts, lists, backend record. */
export function snapshot(vm: Vm) {
  return {
    generation: vm.gpuvm.generation,
    mappings: vm.mappings().map((va) => ({ id: idOf(va), addr: va.addr, range: va.range, obj: va.obj?.name ?? null, offset: va.offset, pair: va.vmBo === null ? null : idOf(va.vmBo) })),
    pairs: vm.pairs().map((p) => pair(vm, p)).sort((a, b) => a.id - b.id),
    listed: vm.pairs().filter((p) => p.obj.gpuvaList.get(vm.gpuvm) === p).map((p) => idOf(p)).sort(),
    extobj: vm.extobjList.rawEntries().map((p) => idOf(p)),
    evict: vm.evictList.rawEntries().map((p) => idOf(p)),
    zombies: vm.gpuvm.boDefer.map((p) => idOf(p)),
    spans: vm.backend instanceof TrackOnlyBackend ? vm.backend.spans().map((s) => ({ ...s, obj: s.obj?.name ?? null })) : null,
    locks: [vm.vaLock.held.length, vm.resv.owner],
  };
}
