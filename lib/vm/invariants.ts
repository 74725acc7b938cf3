// SPDX-License-Identifier: MIT
// What must hold between requests, stated once and checked by tests and the stress run: every mapping is
// linked to the live pair of its BO, every pair's refcount equals the mappings plus the references held,
// zombies are off the BO's list and queued, the lists hold only live pairs, and the backend's record
// equals the tree.
import { TrackOnlyBackend } from '../backends/track-only.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import { boOf } from './bo.js';
import type { Vm } from './vm.js';

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/** The broken invariants of `vm`, as sentences; empty when all hold. */
export function vmInvariantViolations(vm: Vm): string[] {
  const out: string[] = [];
  const gpuvm = vm.gpuvm;
  const linked = new Map<VmBo, number>();
  const mappings = vm.mappings();
  for (const va of mappings) {
    const at = `mapping [${hex(va.addr)}, +${hex(va.range)})`;
    if (va.obj === null) {
      if (va.vmBo !== null) out.push(`${at} is sparse but linked to a pair`);
      continue;
    }
    const vmBo = va.vmBo;
    if (vmBo === null) out.push(`${at} of BO '${va.obj.name}' is linked to no pair`);
    else {
      if (vmBo.obj !== va.obj) out.push(`${at} is linked to the pair of another BO`);
      if (vmBo.state !== 'listed') out.push(`${at} is linked to a ${vmBo.state} pair`);
      linked.set(vmBo, (linked.get(vmBo) ?? 0) + 1);
    }
  }
  const pairs = new Set(vm.pairs());
  for (const vmBo of linked.keys()) if (!pairs.has(vmBo)) out.push(`the pair of BO '${vmBo.obj.name}' has mappings but the VM lost track of it`);
  const deferred = new Set(gpuvm.boDefer);
  for (const vmBo of pairs) {
    const name = `pair of BO '${vmBo.obj.name}'`;
    const vas = linked.get(vmBo) ?? 0;
    const refs = vm.refsHeld(vmBo);
    if (vmBo.state === 'listed') {
      if (vmBo.obj.gpuvaList.get(gpuvm) !== vmBo) out.push(`${name} is not on its BO's list`);
      if (vmBo.refcount !== vas + refs) out.push(`${name} has refcount ${vmBo.refcount}, but ${vas} mapping(s) + ${refs} reference(s) are held`);
      if (vmBo.refcount === 0) out.push(`${name} is listed with no reference: leaked`);
      if (vmBo.vaCount !== vas) out.push(`${name} links ${vmBo.vaCount} mapping(s), the tree has ${vas}`);
    } else if (vmBo.state === 'zombie') {
      if (vmBo.obj.gpuvaList.get(gpuvm) === vmBo) out.push(`zombie ${name} is still on its BO's list`);
      if (refs !== 0 || vas !== 0) out.push(`zombie ${name} is still referenced`);
      if (!deferred.has(vmBo)) out.push(`zombie ${name} is not queued for deferred cleanup`);
    } else {
      out.push(`${name} is ${vmBo.state} but still tracked as live`);
    }
  }
  for (const vmBo of deferred) if (!pairs.has(vmBo)) out.push(`a queued zombie of BO '${vmBo.obj.name}' is unknown to the VM`);
  for (const vmBo of vm.extobjList.rawEntries()) {
    if (!pairs.has(vmBo)) out.push(`the extobj list holds a freed pair of BO '${vmBo.obj.name}'`);
    if (!vm.isExtobj(boOf(vmBo.obj))) out.push(`the extobj list holds VM-private BO '${vmBo.obj.name}'`);
  }
  for (const vmBo of vm.evictList.rawEntries()) {
    if (!pairs.has(vmBo)) out.push(`the evict list holds a freed pair of BO '${vmBo.obj.name}'`);
    else if (!vmBo.zombie && !vm.isEvicted(vmBo)) out.push(`the evict list holds the valid pair of BO '${vmBo.obj.name}'`);
  }
  // The backend's record may run ahead of the tree only while a request is between commit and apply.
  if (vm.backend instanceof TrackOnlyBackend && vm.requestsInFlight === 0) {
    const spans = vm.backend.spans();
    const same = spans.length === mappings.length && spans.every((s, i) => {
      const va = mappings[i]!;
      return s.addr === va.addr && s.range === va.range && s.obj === va.obj && s.offset === va.offset;
    });
    if (!same) out.push(`the backend recorded ${spans.length} span(s) that differ from the tree's ${mappings.length} mapping(s)`);
  }
  return out;
}
