// SPDX-License-Identifier: MIT
// The vgpuvm software GPU through the package, against a model: a seeded random workload of synchronous and
// queued binds, EXEC jobs (fill, copy, checksum through the VA space, faults included) and evictions, in
// each of the three VmBo lifetime designs. The model is this project's GpuVm for the tree plus the bytes of
// every BO and a reference MMU that runs the same commands; after every settle point the kernel's tree, each
// BO's pairs (refcount and mappings) and every mapped byte read back through VM_RW equal the model's, and
// every job ended as the model says (done, or faulted at the command and address the model names). A second
// DRM file, as another process holds one, has a VM of its own in the same design over the same BOs (imported
// through PRIME): it binds synchronously while the first file's jobs and queued binds run, closes its
// handle of a BO now and then (its mappings keep the GEM) and imports it again, so the pairs of two VMs share
// each GEM's list and last references drop from both files; its tree, pairs and bytes are compared too.
import { describe, expect, it } from 'vitest';
import { issueIoctlCall, type IoctlCall } from '../../lib/backends/ioctl-call.js';
import {
  decodeVgpuvmJob, decodeVgpuvmPairs, decodeVgpuvmTree, readVgpuvmField, vgpuvmBoCreate, vgpuvmBoEvict, vgpuvmBoQuery, vgpuvmExec, vgpuvmJobQuery,
  vgpuvmQueueCreate, vgpuvmQueueDestroy, vgpuvmStats, vgpuvmVmBind, vgpuvmVmCreate, vgpuvmVmDestroy, vgpuvmVmQuery, vgpuvmVmRw,
  type VgpuvmBindRequest, type VgpuvmCommand, type VgpuvmDesign,
} from '../../lib/backends/vgpuvm.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import type { GemBuffer } from '../../lib/drm/gem-buffer.js';
import { Syncobj } from '../../lib/drm/syncobj.js';
import { GemObject } from '../../lib/gpuvm/gem.js';
import { GpuVm } from '../../lib/gpuvm/gpuvm.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { fnv1a } from '../support/fnv1a.js';

const setup = await findVgpuvm();
if (!setup.ready) process.stderr.write(`vgpuvm jobs: NOT RUN (skipped, not passed): ${setup.reason}\n`);

/** Steps per design in CI; VGPUVM_JOBS_STEPS runs more. */
const STEPS = Number(process.env['VGPUVM_JOBS_STEPS'] ?? 20000);
/**
 * Settle points (wait for the queue, then compare everything): after each of the first STEPWISE steps, then
 * every SETTLE_EVERY steps, so that later stretches keep many jobs and binds in flight at once.
 * VGPUVM_JOBS_STEPWISE=Infinity compares after every step of the run.
 */
const STEPWISE = Number(process.env['VGPUVM_JOBS_STEPWISE'] ?? 1000);
const SETTLE_EVERY = 200;
const PAGE = 0x1000n;
const WINDOW_PAGES = 96n;
const BO_PAGES = 16n;
const BOS = 4;
const EFAULT = 14;

/** xorshift64*, seeded: the same workload on every run. */
function rng(seed: bigint): (n: number) => number {
  let state = seed;
  return (n) => {
    state ^= state >> 12n;
    state ^= (state << 25n) & 0xffff_ffff_ffff_ffffn;
    state ^= state >> 27n;
    return Number(((state * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn) >> 33n) % n;
  };
}

/** The reference GPU: a GpuVm tree over BOs whose bytes it holds, running commands as vgpuvm_drm.h says. */
class ModelGpu {
  readonly vm = new GpuVm({ name: 'model', start: 0n, range: 1n << 32n });
  readonly bytes = new Map<GemObject, Uint8Array>();

  /** The stretches of [addr, addr + size) in BO mappings, or the first byte outside them. */
  resolve(addr: bigint, size: bigint): { pieces: { bytes: Uint8Array; offset: number; len: number }[] } | { fault: bigint } {
    const pieces: { bytes: Uint8Array; offset: number; len: number }[] = [];
    let cursor = addr;
    const end = addr + size;
    for (const va of this.vm.vasInRange(addr, end)) {
      if (va.addr > cursor || va.obj === null) break;
      const stop = va.addr + va.range < end ? va.addr + va.range : end;
      pieces.push({ bytes: this.bytes.get(va.obj)!, offset: Number(va.offset + (cursor - va.addr)), len: Number(stop - cursor) });
      cursor = stop;
      if (cursor === end) return { pieces };
    }
    return { fault: cursor };
  }

  /** Runs a job; returns how it ends: null, or the faulting command and address. */
  run(commands: readonly VgpuvmCommand[]): { cmd: number; addr: bigint } | null {
    for (const [i, cmd] of commands.entries()) {
      const src = cmd.op === 'fill' ? null : this.resolve(cmd.src, cmd.size);
      if (src !== null && 'fault' in src) return { cmd: i, addr: src.fault };
      const dst = this.resolve(cmd.dst, cmd.op === 'checksum' ? 8n : cmd.size);
      if ('fault' in dst) return { cmd: i, addr: dst.fault };
      let data: Uint8Array;
      if (cmd.op === 'fill') {
        const pattern = new Uint8Array(8);
        new DataView(pattern.buffer).setBigUint64(0, cmd.value, true);
        data = new Uint8Array(Number(cmd.size));
        for (let k = 0; k < data.length; k++) data[k] = pattern[k % 8]!;
      } else {
        data = new Uint8Array(Number(cmd.size));
        let at = 0;
        for (const p of (src as { pieces: { bytes: Uint8Array; offset: number; len: number }[] }).pieces) {
          data.set(p.bytes.subarray(p.offset, p.offset + p.len), at);
          at += p.len;
        }
        if (cmd.op === 'checksum') {
          const sum = new Uint8Array(8);
          new DataView(sum.buffer).setBigUint64(0, fnv1a(data), true);
          data = sum;
        }
      }
      let at = 0;
      for (const p of dst.pieces) {
        p.bytes.set(data.subarray(at, at + p.len), p.offset);
        at += p.len;
      }
    }
    return null;
  }
}

interface PendingJob {
  jobId: bigint;
  expected: { cmd: number; addr: bigint } | null;
}

function runWorkload(node: string, design: VgpuvmDesign, seed: bigint, steps: number): { jobs: number; faults: number; queuedBinds: number; settles: number; peerBinds: number; peerDrops: number } {
  const random = rng(seed);
  using device = DrmDevice.open(node);
  const issue = (call: IoctlCall): IoctlCall => {
    issueIoctlCall(device, call);
    return call;
  };
  const model = new ModelGpu();
  const vmId = Number(readVgpuvmField(issue(vgpuvmVmCreate({ start: 0n, range: 1n << 32n, design })), 'vm_id'));
  const queueId = Number(readVgpuvmField(issue(vgpuvmQueueCreate(vmId)), 'queue_id'));
  using last = Syncobj.create(device);
  const handles = new Map<GemObject, number>();
  const ids = new Map<bigint, GemObject>();
  const bos: GemObject[] = [];
  for (let i = 0; i < BOS; i++) {
    const call = issue(vgpuvmBoCreate(BO_PAGES * PAGE));
    const obj = new GemObject(BO_PAGES * PAGE, `bo${i}`);
    bos.push(obj);
    handles.set(obj, Number(readVgpuvmField(call, 'handle')));
    ids.set(readVgpuvmField(call, 'bo_id'), obj);
    model.bytes.set(obj, new Uint8Array(Number(BO_PAGES * PAGE)));
  }
  // The second file: its VM, its model, and its handles of the BOs (null once closed).
  using peerDevice = DrmDevice.open(node);
  const issuePeer = (call: IoctlCall): IoctlCall => {
    issueIoctlCall(peerDevice, call);
    return call;
  };
  const peer = new GpuVm({ name: 'peer', start: 0n, range: 1n << 32n });
  const peerVmId = Number(readVgpuvmField(issuePeer(vgpuvmVmCreate({ start: 0n, range: 1n << 32n, design })), 'vm_id'));
  const exported = bos.map((obj) => device.adoptGemHandle(handles.get(obj)!, BO_PAGES * PAGE));
  const dmaBufs = exported.map((buffer) => buffer.exportDmaBuf());
  const peerBuffers = new Map<GemObject, GemBuffer | null>();
  const peerHandle = (obj: GemObject): number => {
    let buffer = peerBuffers.get(obj) ?? null;
    if (buffer === null) {
      buffer = peerDevice.importDmaBuf(dmaBufs[bos.indexOf(obj)]!);
      peerBuffers.set(obj, buffer);
    }
    return buffer.handle;
  };
  const pending: PendingJob[] = [];
  const stats = { jobs: 0, faults: 0, queuedBinds: 0, settles: 0, peerBinds: 0, peerDrops: 0 };
  let queued = false;
  // Mostly inside a BO mapping (so most jobs run), sometimes anywhere in the window (so some fault).
  const address = (): bigint => {
    const mapped = [...model.vm.vas()].filter((va) => va.obj !== null);
    if (mapped.length === 0 || random(8) === 0) return BigInt(random(Number(WINDOW_PAGES * PAGE)));
    const va = mapped[random(mapped.length)]!;
    return va.addr + BigInt(random(Number(va.range)));
  };
  const pageAddress = (): bigint => BigInt(random(Number(WINDOW_PAGES))) * PAGE;
  const queue = { queueId, outSyncs: [{ handle: last.handle }] };

  const settle = (step: number): void => {
    if (queued) last.wait(process.hrtime.bigint() + 30_000_000_000n);
    queued = false;
    stats.settles++;
    for (const job of pending.splice(0)) {
      const got = decodeVgpuvmJob(issue(vgpuvmJobQuery(queueId, job.jobId)));
      const want = job.expected === null
        ? { done: true, error: 0, faultCmd: null, faultAddr: null }
        : { done: true, error: -EFAULT, faultCmd: job.expected.cmd, faultAddr: job.expected.addr };
      expect(got, `${design} step ${step}: job ${job.jobId}`).toEqual(want);
    }
    // Both files' VMs: the tree, each BO's pair in that VM (from the GEM's list, which holds both VMs'),
    // no zombie left, and every mapped byte through that VM.
    for (const [who, id, vm, on] of [['vm', vmId, model.vm, issue], ['peer vm', peerVmId, peer, issuePeer]] as const) {
      const count = Number(readVgpuvmField(on(vgpuvmVmQuery(id, 'tree', 0)), 'count'));
      const kernelTree = decodeVgpuvmTree(on(vgpuvmVmQuery(id, 'tree', count)))
        .map((va) => `${va.addr.toString(16)}+${va.range.toString(16)} ${va.boId === 0n ? 'sparse' : `${ids.get(va.boId)!.name}@${va.offset.toString(16)}`}`);
      const modelVas = [...vm.vas()];
      const modelTree = modelVas.map((va) => `${va.addr.toString(16)}+${va.range.toString(16)} ${va.obj === null ? 'sparse' : `${va.obj.name}@${va.offset.toString(16)}`}`);
      expect(kernelTree, `${design} step ${step}: the ${who}'s tree`).toEqual(modelTree);
      for (const obj of bos) {
        const mapped = modelVas.filter((va) => va.obj === obj).length;
        const pairs = decodeVgpuvmPairs(issue(vgpuvmBoQuery(handles.get(obj)!, 4))).filter((p) => p.vmId === id)
          .map((p) => ({ refcount: p.refcount, vas: p.vas, extobj: p.extobj }));
        expect(pairs, `${design} step ${step}: ${obj.name}'s pair in the ${who}`).toEqual(mapped === 0 ? [] : [{ refcount: mapped, vas: mapped, extobj: true }]);
      }
      expect(Number(readVgpuvmField(on(vgpuvmVmQuery(id, 'zombies', 0)), 'count')), `${design} step ${step}: the ${who}'s zombies`).toBe(0);
      for (const va of modelVas) {
        if (va.obj === null) continue;
        const seen = new Uint8Array(Number(va.range));
        on(vgpuvmVmRw(id, va.addr, seen, false));
        const want = model.bytes.get(va.obj)!.subarray(Number(va.offset), Number(va.offset + va.range));
        expect(Buffer.from(seen).equals(want), `${design} step ${step}: the bytes at 0x${va.addr.toString(16)} in the ${who}`).toBe(true);
      }
    }
  };

  // The workload binds with maps and unmaps only (prefetch and madvise are synchronous-only; vgpuvm-native).
  type MapOrUnmap = Extract<VgpuvmBindRequest, { op: 'map' }> | { op: 'unmap'; addr: bigint; range: bigint };
  const bind = (requests: MapOrUnmap[], async: boolean): void => {
    for (const req of requests) {
      const ops = req.op === 'unmap'
        ? model.vm.smUnmapOps(req.addr, req.range)
        : model.vm.smMapOps({ addr: req.addr, range: req.range, obj: req.bo === null ? null : bos.find((o) => handles.get(o) === req.bo!.handle)!, offset: req.bo?.offset ?? 0n });
      model.vm.apply(ops);
    }
    if (async) {
      issue(vgpuvmVmBind(vmId, requests, queue));
      queued = true;
      stats.queuedBinds++;
    } else {
      // A synchronous bind does not wait for queued binds: settle the queue first, so the order is the model's.
      if (queued) last.wait(process.hrtime.bigint() + 30_000_000_000n);
      queued = false;
      issue(vgpuvmVmBind(vmId, requests));
    }
  };

  try {
    for (let step = 1; step <= steps; step++) {
      const kind = random(100);
      if (kind < 35) {
        const obj = bos[random(BOS)]!;
        const range = BigInt(1 + random(8)) * PAGE;
        const offset = BigInt(random(Number(BO_PAGES - range / PAGE) + 1)) * PAGE;
        const sparse = random(10) === 0;
        bind([{ op: 'map', addr: pageAddress(), range, bo: sparse ? null : { handle: handles.get(obj)!, offset } }], design !== 'resv' && random(2) === 0);
      } else if (kind < 50) {
        bind([{ op: 'unmap', addr: pageAddress(), range: BigInt(1 + random(6)) * PAGE }], design !== 'resv' && random(2) === 0);
      } else if (kind < 90) {
        const commands: VgpuvmCommand[] = Array.from({ length: 1 + random(3) }, (): VgpuvmCommand => {
          const size = BigInt(1 + random(random(4) === 0 ? 0x1800 : 0x200));
          const which = random(3);
          if (which === 0) return { op: 'fill', dst: address(), size, value: BigInt(random(0x7fff_ffff)) * 0x1_0000_0001n };
          if (which === 1) return { op: 'copy', src: address(), dst: address(), size };
          return { op: 'checksum', src: address(), size, dst: address() };
        });
        const expected = model.run(commands);
        const call = issue(vgpuvmExec(commands, queue));
        pending.push({ jobId: readVgpuvmField(call, 'job_id'), expected });
        queued = true;
        stats.jobs++;
        if (expected !== null) stats.faults++;
      } else if (kind < 93) {
        // Eviction is bookkeeping: the next EXEC validates the pair again (drm_gpuvm_validate).
        issue(vgpuvmBoEvict(handles.get(bos[random(BOS)]!)!, true));
      } else if (kind < 99) {
        // The second file binds synchronously, with its own handles, while this file's queue runs.
        const obj = bos[random(BOS)]!;
        const addr = pageAddress();
        if (kind < 97) {
          const range = BigInt(1 + random(8)) * PAGE;
          const offset = BigInt(random(Number(BO_PAGES - range / PAGE) + 1)) * PAGE;
          peer.apply(peer.smMapOps({ addr, range, obj, offset }));
          issuePeer(vgpuvmVmBind(peerVmId, [{ op: 'map', addr, range, bo: { handle: peerHandle(obj), offset } }]));
        } else {
          const range = BigInt(1 + random(6)) * PAGE;
          peer.apply(peer.smUnmapOps(addr, range));
          issuePeer(vgpuvmVmBind(peerVmId, [{ op: 'unmap', addr, range }]));
        }
        stats.peerBinds++;
      } else {
        // The second file drops its handle of a BO: only its mappings keep its reference to the GEM now.
        const obj = bos[random(BOS)]!;
        const buffer = peerBuffers.get(obj) ?? null;
        if (buffer !== null) {
          buffer.close();
          peerBuffers.set(obj, null);
          stats.peerDrops++;
        }
      }
      if (step <= STEPWISE || step % SETTLE_EVERY === 0 || step === steps) settle(step);
    }
  } finally {
    issue(vgpuvmQueueDestroy(queueId));
    issue(vgpuvmVmDestroy(vmId));
    issuePeer(vgpuvmVmDestroy(peerVmId));
    for (const buffer of peerBuffers.values()) buffer?.close();
    for (const dmaBuf of dmaBufs) dmaBuf.close();
    for (const buffer of exported) buffer.close();
  }
  return stats;
}

describe.skipIf(!setup.ready)('vgpuvm software GPU against the model', () => {
  const node = setup.ready ? setup.node : '';
  const liveCounts = () => {
    using device = DrmDevice.open(node);
    const call = vgpuvmStats();
    issueIoctlCall(device, call);
    return ['vms', 'vm_bos', 'vas', 'queues', 'jobs'].map((field) => readVgpuvmField(call, field));
  };
  const before = setup.ready ? liveCounts() : [];

  it.each<[VgpuvmDesign, bigint]>([['resv', 1n], ['gpuva-lock', 2n], ['deferred', 3n]])('%s: %i-seeded binds, jobs and evictions match the model at every settle point', (design, seed) => {
    const stats = runWorkload(node, design, seed, STEPS);
    process.stderr.write(`vgpuvm jobs ${design}: ${STEPS} steps, ${stats.jobs} jobs (${stats.faults} faulted), ${stats.queuedBinds} queued binds, ` +
      `${stats.peerBinds} binds and ${stats.peerDrops} handle drops of the second file, ${stats.settles} settle points\n`);
    // The workload must exercise what it claims: jobs, faults, and (immediate designs) queued binds.
    expect(stats.jobs).toBeGreaterThan(STEPS / 3);
    expect(stats.faults).toBeGreaterThan(0);
    expect(stats.faults).toBeLessThan(stats.jobs);
    if (design !== 'resv') expect(stats.queuedBinds).toBeGreaterThan(STEPS / 10);
    expect(stats.peerBinds).toBeGreaterThan(STEPS / 50);
    expect(stats.peerDrops).toBeGreaterThan(0);
  }, 3_600_000);

  it('leaves no VM, pair, mapping, queue or job behind', () => {
    expect(liveCounts()).toEqual(before);
  });
});
