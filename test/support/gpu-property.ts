// SPDX-License-Identifier: MIT
// The property test of lib/gpu: random map / unmap / evict / validate / job / signal sequences through
// openGpu on one device, checking after every step the bytes the VA window shows (vm.read, page by page),
// the tree, the pairs and their refcounts and evicted marks against a page model (on vgpuvm vm.read is
// the kernel's VM_RW, so the bytes are what the kernel's own tree points at). Jobs are fences added to
// the VM's reservations as BOOKKEEP: a request that would take memory out of the VA space first runs with
// an aborted signal (it must change nothing), then runs for real while the pending jobs are signalled in a
// random order, and must not finish before the last one. Where the device runs GPU commands (vgpuvm), exec
// steps checksum a random range through vm.exec into a scratch page above the model's pages: the job must
// fault at the first page no BO backs, or write the FNV-1a of the model's bytes. Run by
// test/native/gpu-property.test.ts (software device) and test/guest/gpu.test.ts (vgem, vgpuvm).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { GpuJob } from '../../lib/gpu/driver-support.js';
import type { ExecJob } from '../../lib/gpu/exec-job.js';
import type { Gpu } from '../../lib/gpu/gpu.js';
import type { DeviceBo } from '../../lib/gpu/device-bo.js';
import { runTask } from '../../lib/locks/task.js';
import { mulberry32 } from '../../lib/mulberry32.js';
import type { VmBoPolicy } from '../../lib/vm/policy.js';
import { fnv1a } from './fnv1a.js';
import { expectedPage } from './va-window-checks.js';
import { PAGE, resourceCounts } from './gpu-scenarios.js';

const PAGES = 16;
const BOS = 3;
const BO_PAGES = 6;
const P = Number(PAGE);

/** One step of a sequence. */
export type GpuStep =
  | { kind: 'map'; first: number; count: number; bo: number | null; boPage: number; order: number }
  | { kind: 'unmap'; first: number; count: number; order: number }
  | { kind: 'evict'; bo: number }
  | { kind: 'validate' }
  | { kind: 'job'; bo: number }
  | { kind: 'exec'; first: number; count: number; inside: boolean }
  | { kind: 'signal'; pick: number };

const page = fc.nat(PAGES - 1);
const count = fc.integer({ min: 1, max: BO_PAGES });
const order = fc.nat();
const stepArb: fc.Arbitrary<GpuStep> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('map' as const), first: page, count, bo: fc.option(fc.nat(BOS - 1), { freq: 5 }), boPage: fc.nat(BO_PAGES - 1), order }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('unmap' as const), first: page, count, order }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict' as const), bo: fc.nat(BOS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'validate' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('job' as const), bo: fc.nat(BOS - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('exec' as const), first: page, count, inside: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('signal' as const), pick: fc.nat() }) },
);

/** A sequence: the VM's policy and its steps. */
export const sequenceArb = (steps: number) =>
  fc.record({ policy: fc.constantFrom<VmBoPolicy>('resv', 'gpuva-lock', 'deferred'), steps: fc.array(stepArb, { minLength: 1, maxLength: steps }) });

/** Per page: null (unmapped), 'sparse', or [bo, bo page]. */
type PageState = null | 'sparse' | readonly [number, number];

// vm.read of an unmapped page: the VA window's refusal, or the kernel's (vgpuvm's VM_RW).
const UNMAPPED = expect.stringMatching(/^ERR_(VA_WINDOW|GPU_VA)_UNMAPPED$/);

// Requests the device refuses by its rules (vgem on Linux 6.1 maps BOs from offset 0 only) change nothing.
const DEVICE_REFUSALS = new Set(['ERR_VA_WINDOW_UNSAFE_MAPPING']);

/** Runs one sequence on a fresh Gpu, checking after every step; what it counted, for the report. */
export async function runGpuSequence(open: () => Gpu, policy: VmBoPolicy, steps: readonly GpuStep[]): Promise<{ waited: number; refused: number; execs: number; faults: number }> {
  const counts = resourceCounts();
  const stats = { waited: 0, refused: 0, execs: 0, faults: 0 };
  {
    using gpu = open();
    const validated: string[] = [];
    const execs = gpu.describe().exec.supported;
    const SCRATCH = BigInt(PAGES) * PAGE;
    using vm = gpu.createVm({ policy, range: SCRATCH + (execs ? PAGE : 0n), validate: (vmBo) => void validated.push(vmBo.obj.name) });
    // Where the exec steps write their checksums: outside the pages the model follows.
    const scratch = execs ? gpu.createBo(PAGE, { name: 'scratch' }) : null;
    if (scratch !== null) await vm.map({ addr: SCRATCH, range: PAGE, bo: scratch });
    const bos: DeviceBo[] = [];
    for (let b = 0; b < BOS; b++) {
      const bo = gpu.createBo(BigInt(BO_PAGES) * PAGE, { name: `bo${b}` });
      using cpu = bo.map();
      for (let p = 0; p < BO_PAGES; p++) cpu.bytes.set(expectedPage(b, p), p * P);
      bos.push(bo);
    }
    const model: PageState[] = new Array<PageState>(PAGES).fill(null);
    const evicted = new Set<number>();
    const pending: GpuJob[] = [];
    const jobs = gpu.describe().jobs.supported;

    const snapshot = async (): Promise<unknown> => ({
      tree: vm.mappings().map((va) => [va.addr, va.range, va.obj?.name ?? null, va.offset]),
      pairs: vm.pairs().map((vmBo) => [vmBo.obj.name, vmBo.refcount, vmBo.vaCount, vm.isEvicted(vmBo)]),
      pages: await Promise.all(model.map((_s, p) => vm.read(BigInt(p) * PAGE, PAGE).then((b) => Buffer.from(b).toString('base64'), (e: { code: string }) => e.code))),
    });

    const check = async (what: string): Promise<void> => {
      // The tree, page by page, against the model.
      const fromTree: PageState[] = new Array<PageState>(PAGES).fill(null);
      for (const va of vm.mappings()) {
        if (va.addr >= SCRATCH) continue;
        const b = va.obj === null ? -1 : bos.findIndex((bo) => bo.gem === va.obj);
        for (let i = 0; i < Number(va.range / PAGE); i++) fromTree[Number(va.addr / PAGE) + i] = b < 0 ? 'sparse' : [b, Number(va.offset / PAGE) + i];
      }
      expect(fromTree, `${what}: tree`).toEqual(model);
      // The bytes the window shows.
      const zero = new Uint8Array(P);
      for (let p = 0; p < PAGES; p++) {
        const state = model[p]!;
        if (state === null) {
          await expect(vm.read(BigInt(p) * PAGE, PAGE), `${what}: page ${p} unmapped`).rejects.toMatchObject({ code: UNMAPPED, address: BigInt(p) * PAGE });
          continue;
        }
        const seen = await vm.read(BigInt(p) * PAGE, PAGE);
        if (Buffer.compare(seen, state === 'sparse' ? zero : expectedPage(state[0], state[1])) !== 0) expect.fail(`${what}: page ${p} should show ${JSON.stringify(state)}`);
      }
      // Pairs, refcounts and evicted marks.
      const vasOf = bos.map((bo) => vm.mappings().filter((va) => va.obj === bo.gem).length);
      expect(vm.pairs().filter((vmBo) => vmBo.obj !== scratch?.gem).map((vmBo) => vmBo.obj.name).sort(), `${what}: pairs`).toEqual(bos.filter((_bo, b) => vasOf[b]! > 0).map((bo) => bo.name));
      bos.forEach((bo, b) => {
        const pair = bo.gem.gpuvaList.get(vm.gpuvm);
        expect({ bo: b, gem: bo.gem.refcount, vas: pair?.vaCount ?? 0, evicted: pair === undefined ? false : vm.isEvicted(pair) }, what)
          .toEqual({ bo: b, gem: 1 + (vasOf[b]! > 0 ? 1 : 0), vas: vasOf[b], evicted: evicted.has(b) });
      });
    };

    // Runs a request that may have to wait for the pending jobs (see the file comment).
    const request = async (run: (signal?: AbortSignal) => Promise<void>, waits: boolean, seed: number): Promise<void> => {
      if (!waits || pending.length === 0) return run();
      stats.waited++;
      const before = await snapshot();
      const aborted = new AbortController();
      const refused = run(aborted.signal);
      aborted.abort();
      await expect(refused).rejects.toMatchObject({ code: 'ABORT_ERR' });
      expect(await snapshot(), 'an aborted wait changed something').toEqual(before);
      let done = false;
      const real = run().finally(() => {
        done = true;
      });
      const random = mulberry32(seed);
      const order = pending.splice(0).map((job) => ({ job, key: random() })).sort((x, y) => x.key - y.key);
      for (const { job } of order) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(done, 'the request finished before every job it waits for signalled').toBe(false);
        job.signal();
      }
      await real;
    };

    const overlaps = (first: number, n: number): boolean => model.slice(first, first + n).some((s) => s !== null);

    for (const [i, step] of steps.entries()) {
      const what = `step ${i} ${JSON.stringify(step)}`;
      if (step.kind === 'map') {
        const n = Math.min(step.count, PAGES - step.first, step.bo === null ? BO_PAGES : BO_PAGES - step.boPage);
        const boPage = step.bo === null ? 0 : step.boPage;
        const bo = step.bo === null ? null : bos[step.bo]!;
        try {
          await request((signal) => vm.map({ addr: BigInt(step.first) * PAGE, range: BigInt(n) * PAGE, bo, offset: BigInt(boPage) * PAGE, signal }),
            overlaps(step.first, n), step.order);
          for (let k = 0; k < n; k++) model[step.first + k] = step.bo === null ? 'sparse' : [step.bo, boPage + k];
        } catch (error) {
          if (!DEVICE_REFUSALS.has((error as { code?: string }).code ?? '')) throw error;
          stats.refused++;
        }
      } else if (step.kind === 'unmap') {
        const n = Math.min(step.count, PAGES - step.first);
        try {
          await request((signal) => vm.unmap(BigInt(step.first) * PAGE, BigInt(n) * PAGE, { signal }), overlaps(step.first, n), step.order);
          model.fill(null, step.first, step.first + n);
        } catch (error) {
          // A split whose far piece would start mid-BO where only offset 0 maps right.
          if (!DEVICE_REFUSALS.has((error as { code?: string }).code ?? '')) throw error;
          stats.refused++;
        }
      } else if (step.kind === 'evict') {
        const bo = bos[step.bo]!;
        await runTask('evict', async () => {
          using guard = await bo.resv.lock();
          bo.evict(guard);
        });
        if (model.some((s) => Array.isArray(s) && s[0] === step.bo)) evicted.add(step.bo);
      } else if (step.kind === 'validate') {
        validated.length = 0;
        await runTask('validate', async () => {
          using exec = await vm.execLock();
          await vm.validate(exec);
        });
        expect(validated.sort(), `${what}: validated`).toEqual([...evicted].sort().map((b) => `bo${b}`));
        evicted.clear();
      } else if (step.kind === 'job') {
        if (!jobs) continue;
        const job = gpu.startJob([bos[step.bo]!], { name: `job${i}` });
        await runTask('submit', async () => {
          using _exec = await vm.execLock({ numFences: 1 });
          vm.addFence(job, { usage: 'bookkeep' });
        });
        pending.push(job);
      } else if (step.kind === 'exec') {
        if (!execs) continue;
        // `inside`: from the next page a BO backs, and only as far as BOs back it, so such jobs do not fault.
        let first = step.first;
        if (step.inside) {
          const backed = [...model.keys()].map((k) => (step.first + k) % PAGES).find((p) => Array.isArray(model[p]));
          if (backed !== undefined) first = backed;
        }
        let n = Math.min(step.count, PAGES - first);
        if (step.inside) {
          const run = model.slice(first, first + n).findIndex((state) => !Array.isArray(state));
          if (run > 0) n = run;
        }
        validated.length = 0;
        const job: ExecJob = await vm.exec([{ op: 'checksum', src: BigInt(first) * PAGE, size: BigInt(n) * PAGE, dst: SCRATCH }], { name: `exec${i}` });
        // The submission validated the evicted pairs, in the model (the callback) and in the kernel.
        expect(validated.sort(), `${what}: validated`).toEqual([...evicted].sort().map((b) => `bo${b}`));
        evicted.clear();
        expect(await job.wait({ timeoutMs: 20_000 }), `${what}: the job ends`).toBe(true);
        stats.execs++;
        const states = model.slice(first, first + n);
        const hole = states.findIndex((state) => !Array.isArray(state));
        if (hole >= 0) {
          stats.faults++;
          expect(job.error, `${what}: fault`).toMatchObject({ code: 'ERR_GPU_JOB_FAULT', command: 0, address: BigInt(first + hole) * PAGE });
        } else {
          expect(job.error, `${what}: no fault`).toBeNull();
          const bytes = Buffer.concat(states.map((state) => expectedPage((state as readonly [number, number])[0], (state as readonly [number, number])[1])));
          const sum = new DataView((await vm.read(SCRATCH, 8n)).buffer).getBigUint64(0, true);
          expect(sum, `${what}: checksum`).toBe(fnv1a(bytes));
        }
        job.close();
      } else {
        if (pending.length === 0) continue;
        pending.splice(step.pick % pending.length, 1)[0]!.signal();
      }
      if (policy === 'deferred') await vm.deferredCleanup();
      // A pair that lost its last mapping is freed, and its evicted mark with it.
      for (const b of [...evicted]) if (!model.some((s) => Array.isArray(s) && s[0] === b)) evicted.delete(b);
      await check(what);
    }
    for (const job of pending) job.signal();
    for (const bo of bos) bo.close();
    scratch?.close();
  }
  expect(resourceCounts(), 'the sequence leaked fds or window bytes').toEqual(counts);
  return stats;
}

/** Runs `runs` random sequences of up to `steps` steps with `seed`; returns the totals. */
export async function gpuProperty(open: () => Gpu, runs: number, steps: number, seed: number): Promise<{ sequences: number; waited: number; refused: number; execs: number; faults: number }> {
  const total = { sequences: 0, waited: 0, refused: 0, execs: 0, faults: 0 };
  await fc.assert(fc.asyncProperty(sequenceArb(steps), async ({ policy, steps: list }) => {
    const r = await runGpuSequence(open, policy, list);
    total.sequences++;
    total.waited += r.waited;
    total.refused += r.refused;
    total.execs += r.execs;
    total.faults += r.faults;
  }), { numRuns: runs, seed });
  return total;
}
