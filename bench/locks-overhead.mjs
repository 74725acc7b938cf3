// SPDX-License-Identifier: MIT
// What the lock machinery costs on an uncontended request (issue 5: under 25% of the request's cost without
// locks). One task maps and unmaps a BO (an extobj, 4 pages) over and over, through the track-only backend:
//   locked:    vm.map + vm.unmap as users call them: the request's task, its VA range hold, the BO's
//              reservation, the gpuva locks (immediate mode), the extobj list lock, every assertion.
//   no locks:  the same Vm requests, the same code, with the lock machinery taken out: every acquisition,
//              release and assertion of the VA range lock, the reservations and the sync locks replaced by
//              a no-op for the whole process (the methods are stubbed on their prototypes here, in the
//              benchmark's own process, and nowhere else). What remains of the locking design there (the
//              task object, the synchronous section, the list of reservations a request computes) is counted
//              as request cost, which flatters the locked column by that much; see the results file.
//   model:     the bare model transaction without the Vm: ops generated, committed through the same backend,
//              applied to a GpuVm without lock hooks (in immediate mode with the same spare pair and cleanup).
//              It has no extobj list and no pair bookkeeping, so it is cheaper than the request itself.
// The figure is locked / no-locks - 1. Each cell is measured in a fresh process (the stubs must not
// leak into the locked run, and AsyncLocalStorage's promise hooks, which only a caller inside runTask()
// turns on, must not tax the others). The last column runs the locked loop inside runTask(), as a caller
// holding locks of its own would.
// Time is the process's CPU time (user + system), not wall time: the build machine is shared, and CPU time
// is what the request costs whatever else runs. A process reports the median of 7 rounds after a warm-up;
// each cell is the median of 5 such processes, run interleaved with the other cells of its row.
// Run: npm run build:ts && node bench/locks-overhead.mjs [pairs per round]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GpuVm } from '../dist/gpuvm/gpuvm.js';
import { TrackOnlyBackend } from '../dist/backends/track-only.js';
import { OwnedLock } from '../dist/locks/owned-lock.js';
import { RangeLock } from '../dist/locks/range-lock.js';
import { ResvLock } from '../dist/locks/resv.js';
import { SyncLock } from '../dist/locks/sync-lock.js';
import { runTask } from '../dist/locks/task.js';
import { Bo, Vm, VM_BO_POLICIES } from '../dist/vm/index.js';

const [, , first, policyArg, modeArg] = process.argv;
const child = first === '--child';
const pairs = Number((child ? process.argv[5] : first) ?? 20000);
const ROUNDS = 7;
const req = { addr: 0x10000, range: 0x4000, offset: 0x1000 };

function vmLoop(policy) {
  const vm = new Vm({ policy, start: 0, range: 1 << 30 });
  const bo = new Bo(0x100000, { name: 'bo' });
  const map = { ...req, bo };
  return async (n) => {
    for (let i = 0; i < n; i++) {
      await vm.map(map);
      await vm.unmap(req.addr, req.range);
      if (policy === 'deferred') await vm.deferredCleanup(); // the deferred design's own cost
    }
  };
}

// Takes the lock machinery out of this process: a request still calls every lock step, and each does nothing.
function stubLockMachinery() {
  const none = { releaseHeld() {} }; // the range "hold" every request gets
  RangeLock.prototype.tryHold = () => none;
  ResvLock.prototype.tryAcquire = () => true;
  SyncLock.prototype.acquireSync = () => {};
  OwnedLock.prototype.releaseHeld = () => {};
  OwnedLock.prototype.assertHeld = () => {};
  OwnedLock.prototype.isHeld = () => true;
}

function modelLoop(policy) {
  const immediateMode = policy !== 'resv';
  const gpuvm = new GpuVm({ start: 0, range: 1 << 30, immediateMode });
  const backend = new TrackOnlyBackend();
  const bo = new Bo(0x100000, { name: 'bo' });
  const map = { ...req, obj: bo.gem };
  // Shaped like vm.map / vm.unmap: a call whose promise the caller awaits.
  const request = async (ops) => {
    await backend.commit(gpuvm, ops);
    gpuvm.apply(ops);
  };
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const spare = immediateMode ? gpuvm.obtainPrealloc(gpuvm.createVmBo(bo.gem)) : null;
      await request(gpuvm.smMapOps(map));
      spare?.put();
      await request(gpuvm.smUnmapOps(req.addr, req.range));
      if (immediateMode) gpuvm.deferredCleanup();
    }
  };
}

const loops = {
  locked: vmLoop,
  'locked-in-task': (policy) => {
    const run = vmLoop(policy);
    return (n) => runTask('caller', () => run(n));
  },
  'no-locks': (policy) => {
    stubLockMachinery();
    return vmLoop(policy);
  },
  model: modelLoop,
};

async function measure(run) {
  await run(2000); // warm-up: let the JIT settle
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    await run(pairs);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / pairs);
  }
  samples.sort((a, b) => a - b);
  return samples[ROUNDS >> 1]; // median CPU microseconds per map+unmap pair
}

if (child) {
  process.stdout.write(String(await measure(loops[modeArg](policyArg))));
} else {
  const PROCESSES = 5;
  const once = (policy, mode) => Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', policy, mode, String(pairs)]));
  const pct = (full, base) => `${((full / base - 1) * 100).toFixed(1)}%`;
  console.log(`CPU µs per map+unmap pair (median of ${PROCESSES} processes, each the median of ${ROUNDS} rounds of ${pairs})`);
  console.log('| policy | model | no locks | locked | **lock overhead** (locked / no locks) | locked / model | locked, caller in runTask | its overhead (/ no locks) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const policy of VM_BO_POLICIES) {
    const samples = { model: [], 'no-locks': [], locked: [], 'locked-in-task': [] };
    for (let p = 0; p < PROCESSES; p++) for (const mode of Object.keys(samples)) samples[mode].push(once(policy, mode));
    const median = (mode) => samples[mode].sort((a, b) => a - b)[PROCESSES >> 1];
    const [model, bare, full, inTask] = ['model', 'no-locks', 'locked', 'locked-in-task'].map(median);
    console.log(`| ${policy} | ${model.toFixed(2)} | ${bare.toFixed(2)} | ${full.toFixed(2)} | **${pct(full, bare)}** | ${pct(full, model)} | ${inTask.toFixed(2)} | ${pct(inTask, bare)} |`);
  }
}
