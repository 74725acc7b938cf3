// SPDX-License-Identifier: MIT
// Property tests of lib/gpuvm against the independent reference models in test/support: random VMs (with
// and without a reserved node), BOs and map/unmap/madvise request sequences. After every request the GpuVm tree equals the
// reference's, the ops equal the reference's ops and turn the old tree into the new one, generating ops
// changes nothing, the invariants hold (sorted, non-overlapping, inside the VM, clear of the reserved
// node, VmBo lists equal to the tree), and the lookups, prefetchOps and boUnmapOps agree with a plain scan.
// The run counts are in the test names; they add up to 18,000 random sequences and 200 generated streams.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GpuVmRequestError } from '../../../lib/gpuvm/errors.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import type { GpuVa } from '../../../lib/gpuvm/gpuva.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { GpuVaOp, OpMap } from '../../../lib/gpuvm/ops.js';
import { replayTrace } from '../../../lib/trace/trace.js';
import { formatTraceCommand, generateTrace } from '../../../lib/trace/trace-generator.js';
import { across2p53World, smallWorld, topOfU64World, wholeU64World, type AnyRefRequest, type World } from '../../support/gpuvm-arbitraries.js';
import { IntervalModel } from '../../support/interval-model.js';
import { PageModel } from '../../support/page-model.js';
import { replayWithReference } from '../../support/reference-trace.js';
import { applyOpsToList, type ReferenceModel, type RefOp, type RefResult, type RefVa, type RefVmConfig } from '../../support/reference-ops.js';

// A hang guard, not a speed check: the runs are sized for about a minute in all on an idle 2-core machine,
// and a loaded shared machine can be several times slower.
const PROPERTY_TIMEOUT = 600_000;

/** Deep equality for what these tests compare: bigints, strings, booleans, null, arrays and plain objects. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => equal(item, b[i]));
  const keys = Object.keys(a);
  return !Array.isArray(b) && keys.length === Object.keys(b).length &&
    keys.every((key) => equal((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/**
 * Thousands of sequences run through here: a plain structural compare is much cheaper than a deep expect,
 * and only a mismatch pays for expect's diff.
 */
function same(got: unknown, want: unknown, what: string): void {
  if (!equal(got, want)) expect(got, what).toEqual(want);
}

/** An invariant; the message says which. */
function holds(condition: boolean, what: string): void {
  if (!condition) expect.unreachable(what);
}

/** A GpuVm built like the reference's VM, with one GemObject per BO name. */
interface Subject {
  vm: GpuVm;
  gems: Map<string, GemObject>;
}

function subjectFor(config: RefVmConfig): Subject {
  const vm = new GpuVm({
    name: 'prop', start: config.start, range: config.range,
    ...(config.reserve === null ? {} : { reserveOffset: config.reserve.start, reserveRange: config.reserve.range }),
  });
  const gems = new Map([...config.bos].map(([name, size]) => [name, new GemObject(size, name)]));
  return { vm, gems };
}

function vaOf(va: GpuVa | OpMap): RefVa {
  return { addr: va.addr, range: va.range, bo: va.obj === null ? null : va.obj.name, offset: va.offset };
}

function opOf(op: GpuVaOp): RefOp {
  switch (op.type) {
    case 'map': return { kind: 'map', va: vaOf(op) };
    case 'unmap': return { kind: 'unmap', va: vaOf(op.va), keep: op.keep };
    case 'remap': return { kind: 'remap', unmap: vaOf(op.unmap.va), keep: op.unmap.keep, prev: op.prev && vaOf(op.prev), next: op.next && vaOf(op.next) };
    case 'prefetch': throw new Error('sm_map/sm_unmap emitted a PREFETCH op');
  }
}

/** The mappings of the GpuVm in tree order, the reserved node left out. */
function mappingsOf(vm: GpuVm): RefVa[] {
  return [...vm.vas()].filter((va) => va !== vm.kernelAllocNode).map(vaOf);
}

/** Runs one request through the list API (generate, then apply) and returns what happened. */
function sendList({ vm, gems }: Subject, request: AnyRefRequest): RefResult {
  const before = mappingsOf(vm);
  const generation = vm.generation;
  let ops;
  try {
    ops = request.kind === 'map'
      ? vm.smMapOps({ addr: request.req.addr, range: request.req.range, obj: request.req.bo === null ? null : gems.get(request.req.bo)!, offset: request.req.offset })
      : request.kind === 'unmap' ? vm.smUnmapOps(request.addr, request.range) : vm.madviseOps(request.addr, request.range);
  } catch (err) {
    if (!(err instanceof GpuVmRequestError)) throw err;
    holds(vm.generation === generation, 'a refused request changed the tree');
    same(mappingsOf(vm), before, 'a refused request changed the tree');
    return { error: err.reason };
  }
  // Generating ops never changes the tree.
  holds(vm.generation === generation, 'generating ops changed the tree');
  same(mappingsOf(vm), before, 'generating ops changed the tree');
  const refOps = [...ops].map(opOf);
  const applied = vm.apply(ops);
  const after = mappingsOf(vm);
  // The ops say exactly how the tree changed.
  same(after, applyOpsToList(before, refOps), 'the ops do not account for the tree change');
  same(applied.removed.map(vaOf), refOps.flatMap((op) => (op.kind === 'unmap' ? [op.va] : op.kind === 'remap' ? [op.unmap] : [])), 'apply() reports other removed VAs');
  same(applied.inserted.map(vaOf), refOps.flatMap((op) => (op.kind === 'map' ? [op.va] : op.kind === 'remap' ? [op.prev, op.next].filter((p) => p !== null) : [])), 'apply() reports other inserted VAs');
  return { ops: refOps };
}

/**
 * Runs one request through the step API (sm_map / sm_unmap with callbacks that apply each op); madvise has
 * no step form in the kernel, so it goes through the list API.
 */
function sendSteps(subject: Subject, request: AnyRefRequest): RefResult {
  if (request.kind === 'madvise') return sendList(subject, request);
  const { vm, gems } = subject;
  const ops: RefOp[] = [];
  const steps = {
    map: (op: OpMap) => { ops.push(opOf(op)); return vm.applyMap(op); },
    remap: (op: Parameters<GpuVm['applyRemap']>[0]) => { ops.push(opOf(op)); return vm.applyRemap(op); },
    unmap: (op: Parameters<GpuVm['applyUnmap']>[0]) => { ops.push(opOf(op)); return vm.applyUnmap(op); },
  };
  try {
    if (request.kind === 'map') {
      vm.smMap({ addr: request.req.addr, range: request.req.range, obj: request.req.bo === null ? null : gems.get(request.req.bo)!, offset: request.req.offset }, steps);
    } else {
      vm.smUnmap(request.addr, request.range, steps);
    }
  } catch (err) {
    if (!(err instanceof GpuVmRequestError)) throw err;
    holds(ops.length === 0, 'a refused step request emitted ops');
    return { error: err.reason };
  }
  return { ops };
}

/** The invariants of a GpuVm tree and its VmBo lists, checked from the outside. */
function checkInvariants({ vm, gems }: Subject, config: RefVmConfig, linked: boolean): void {
  const vas = [...vm.vas()];
  const node = vm.kernelAllocNode;
  if (config.reserve === null) holds(node === null, 'a reserved node appeared');
  else same(node && vaOf(node), { addr: config.reserve.start, range: config.reserve.range, bo: null, offset: 0n }, 'the reserved node moved');
  const end = config.start + config.range;
  for (let i = 0; i < vas.length; i++) {
    const va = vas[i]!;
    holds(va.vm === vm, 'a VA in the tree does not point at its VM');
    holds(va.range > 0n, 'an empty VA is in the tree');
    holds(va.addr >= config.start && va.addr + va.range <= end, 'a VA lies outside the VM');
    holds(va.offset >= 0n && va.offset < 1n << 64n, `a VA offset is not a u64: 0x${va.offset.toString(16)}`);
    if (i > 0) holds(vas[i - 1]!.addr + vas[i - 1]!.range <= va.addr, 'the tree is not sorted or VAs overlap');
  }
  holds(vm.vaCount === vas.length - (node === null ? 0 : 1), 'vaCount is not the number of mappings');
  for (const gem of gems.values()) {
    const inTree = vas.filter((va) => va.obj === gem);
    const vmBos = [...gem.vmBos()].filter((vmBo) => vmBo.vm === vm);
    if (!linked || inTree.length === 0) {
      holds(vmBos.length === 0, `GEM ${gem.name} has a VmBo without linked mappings`);
      holds(inTree.every((va) => va.vmBo === null), 'an unlinked VA points at a VmBo');
      continue;
    }
    holds(vmBos.length === 1, `GEM ${gem.name} has ${vmBos.length} VmBos in this VM`);
    const vmBo = vmBos[0]!;
    const listed = new Set(vmBo.gpuvas());
    holds(listed.size === inTree.length && inTree.every((va) => listed.has(va)), `the VmBo list of ${gem.name} is not its mappings in the tree`);
    holds(vmBo.vaCount === inTree.length, 'VmBo vaCount is not its number of VAs');
    holds(vmBo.refcount === inTree.length, `VmBo refcount ${vmBo.refcount} is not one per linked VA (${inTree.length})`);
    holds(vmBo.state === 'listed', `VmBo state is ${vmBo.state}`);
    holds(inTree.every((va) => va.vmBo === vmBo), 'a VA points at another VmBo');
    // drm_gpuvm_bo_unmap_ops_create: one UNMAP (keep false) per linked VA, in link order.
    const unmaps = [...vm.boUnmapOps(vmBo)];
    holds(unmaps.length === listed.size && unmaps.every((op, i) => op.type === 'unmap' && !op.keep && op.va === [...listed][i]), `boUnmapOps of ${gem.name}`);
  }
  holds(vas.every((va) => va.obj !== null || va.vmBo === null), 'a sparse VA is linked');
}

/** The lookups agree with a plain scan of the reference's mappings. */
function checkLookups(vm: GpuVm, model: ReferenceModel, config: RefVmConfig, request: AnyRefRequest): void {
  const addr = request.kind === 'map' ? request.req.addr : request.addr;
  const range = request.kind === 'map' ? request.req.range : request.range;
  if (range === 0n || addr + range > 1n << 64n) return;
  const reserved: RefVa[] = config.reserve === null ? [] : [{ addr: config.reserve.start, range: config.reserve.range, bo: null, offset: 0n }];
  const all = [...model.mappings(), ...reserved].sort((a, b) => (a.addr < b.addr ? -1 : 1));
  const first = all.find((va) => va.addr < addr + range && addr < va.addr + va.range);
  const found = vm.findFirst(addr, range);
  same(found && vaOf(found), first ?? null, 'findFirst');
  holds(vm.intervalEmpty(addr, range) === (first === undefined), 'intervalEmpty');
  const exact = vm.find(addr, range);
  same(exact && vaOf(exact), first !== undefined && first.addr === addr && first.range === range ? first : null, 'find');
  if (addr + range === 1n << 64n) return;
  // drm_gpuvm_prefetch_ops_create: one PREFETCH per VA overlapping the range (the reserved node is one), in address order.
  const prefetched = [...vm.prefetchOps(addr, range)].map((op) => (op.type === 'prefetch' ? vaOf(op.va) : null));
  same(prefetched, all.filter((va) => va.addr < addr + range && addr < va.addr + va.range), 'prefetchOps');
}

function send(model: ReferenceModel, request: AnyRefRequest): RefResult {
  if (request.kind === 'map') return model.map(request.req);
  return request.kind === 'unmap' ? model.unmap(request.addr, request.range) : model.madvise(request.addr, request.range);
}

/** The whole property: one world, the list API and the step API side by side with the reference. */
function matchesReference(world: Omit<World<AnyRefRequest>, 'unit'>, reference: (config: RefVmConfig) => ReferenceModel): void {
  const model = reference(world.config);
  const listed = subjectFor(world.config);
  const stepped = subjectFor(world.config);
  for (const request of world.requests) {
    const expected = send(model, request);
    same(sendList(listed, request), expected, 'ops of smMapOps/smUnmapOps/madviseOps');
    same(sendSteps(stepped, request), expected, 'ops of smMap/smUnmap steps');
    const mappings = model.mappings();
    same(mappingsOf(listed.vm), mappings, 'tree after apply()');
    same(mappingsOf(stepped.vm), mappings, 'tree after the steps');
    checkInvariants(listed, world.config, true);
    checkInvariants(stepped, world.config, false);
    checkLookups(listed.vm, model, world.config, request);
  }
}

describe('GpuVm matches the reference models', () => {
  const small = 10000;
  it(`on ${small} random sequences in small VMs of 4 KiB pages (page model)`, () => {
    fc.assert(fc.property(smallWorld(24, true), (world) => matchesReference(world, (c) => new PageModel(c, world.unit))), { numRuns: small });
  }, PROPERTY_TIMEOUT);
  const top = 4000;
  it(`on ${top} random sequences in tiny VMs ending at 2^64-1, byte by byte (page model)`, () => {
    fc.assert(fc.property(topOfU64World(16, true), (world) => matchesReference(world, (c) => new PageModel(c, world.unit))), { numRuns: top });
  }, PROPERTY_TIMEOUT);
  const across = 4000;
  it(`on ${across} random sequences in tiny VMs across 2^53, where keys stop being exact, byte by byte (page model)`, () => {
    fc.assert(fc.property(across2p53World(16), (world) => matchesReference(world, (c) => new PageModel(c, world.unit))), { numRuns: across });
  }, PROPERTY_TIMEOUT);
  const whole = 4000;
  it(`on ${whole} random sequences in VMs up to the whole u64 space (interval model)`, () => {
    fc.assert(fc.property(wholeU64World(16, true), (world) => matchesReference(world, (c) => new IntervalModel(c))), { numRuns: whole });
  }, PROPERTY_TIMEOUT);
  const seeds = 100;
  it(`on ${seeds} generated mixed streams of 300 requests (trace generator seeds 0..${seeds - 1}, interval model)`, () => {
    for (let seed = 0; seed < seeds; seed++) {
      const commands = [...generateTrace({ seed, profile: 'mixed', requests: 300 })];
      let config: RefVmConfig | null = null;
      const bos = new Map<string, bigint>();
      const requests: AnyRefRequest[] = [];
      for (const c of commands) {
        if (c.kind === 'vm') config = { start: c.start, range: c.range, reserve: c.reserve, bos };
        else if (c.kind === 'bo') bos.set(c.name, c.size);
        else if (c.kind === 'map') requests.push({ kind: 'map', req: { addr: c.addr, range: c.range, bo: c.bo, offset: c.offset } });
        else if (c.kind === 'unmap') requests.push({ kind: 'unmap', addr: c.addr, range: c.range });
      }
      matchesReference({ config: config!, requests }, (c) => new IntervalModel(c));
    }
  }, PROPERTY_TIMEOUT);
});

describe('drm-gpuvm trace output matches the reference', () => {
  const seeds = 100;
  it(`on ${seeds} generated mixed streams of 300 requests (replayTrace vs the interval model, byte for byte)`, () => {
    for (let seed = 1000; seed < 1000 + seeds; seed++) {
      const trace = [...generateTrace({ seed, profile: 'mixed', requests: 300 })].map((c) => `${formatTraceCommand(c)}\n`).join('');
      const want = replayWithReference(trace, (c) => new IntervalModel(c));
      const got = replayTrace(trace);
      if (got !== want) expect(got, `seed ${seed}`).toBe(want);
    }
  }, PROPERTY_TIMEOUT);
});

describe('u64 offsets of remap pieces', () => {
  // The kernel computes a piece's offset in u64 arithmetic, so a sparse VA given an offset near 2^64-1 (the
  // API takes any u64 offset for a sparse map; only BO maps are bounded by the BO size) yields a next piece
  // whose offset wraps modulo 2^64. Whatever the model does, a GpuVa offset must stay a u64.
  it('a sparse VA at offset 2^64-1 split by an unmap gives a next piece at offset 0xfff', () => {
    const vm = new GpuVm({ start: 0n, range: (1n << 64n) - 1n });
    vm.apply(vm.smMapOps({ addr: 0x1000n, range: 0x2000n, obj: null, offset: (1n << 64n) - 1n }));
    const [op] = [...vm.smUnmapOps(0x1000n, 0x1000n)];
    expect(op && opOf(op)).toEqual({
      kind: 'remap', keep: false, prev: null,
      unmap: { addr: 0x1000n, range: 0x2000n, bo: null, offset: (1n << 64n) - 1n },
      next: { addr: 0x2000n, range: 0x1000n, bo: null, offset: 0xfffn },
    });
  });
});
