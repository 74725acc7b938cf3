// SPDX-License-Identifier: MIT
// What the lock machinery costs on an uncontended request (the target: under 25% of the request's cost
// without locks). One task maps and unmaps a BO (an extobj, 4 pages) over and over, through the track-only backend
// (or, with --backend window, the VA window backend on the software device, whose commit makes real mmap
// calls, as a backend with a device to talk to does):
//   locked:    vm.map + vm.unmap as users call them: the request's task, its VA range hold, the BO's
//              reservation, the gpuva locks (immediate mode), the extobj list lock, every assertion.
//   no locks:  the same Vm requests, the same code, with the lock machinery taken out: every acquisition,
//              release and assertion of the VA range lock, the reservations and the sync locks replaced by
//              a no-op for the whole process (the methods are stubbed on their prototypes here, in that
//              variant's own process, and nowhere else). What remains of the locking design there (the task
//              object, the synchronous section, the list of reservations a request computes) is counted as
//              request cost, which flatters the locked column by that much; see the results file.
//   model:     the bare model transaction without the Vm: ops generated, committed through the same backend,
//              applied to a GpuVm without lock hooks (in immediate mode with the same spare pair and cleanup).
//              It has no extobj list and no pair bookkeeping, so it is cheaper than the request itself.
//   in task:   the locked loop inside runTask(), as a caller holding locks of its own would run it; that turns
//              AsyncLocalStorage on, whose promise hooks tax every promise.
// The figure is locked / no-locks - 1.
// Each variant runs in a process of its own (the stubs must not leak into the locked run, nor the promise
// hooks into the others), kept alive for a set of rounds. The rounds are interleaved: round r runs every
// variant once, one after the other (in an order that rotates), so that all of them meet the same load on
// this shared machine, and a ratio is taken within each round. How V8 compiles a process shifts its
// speed by several per cent for its whole life, so the measurement is repeated over several sets of fresh
// processes; the table gives medians over every round of every set.
// Time is the process's CPU time (user + system) over the round, not wall time.
// Run: npm run build:ts && node bench/locks-overhead.mjs [pairs per round] [rounds per set] [sets] [--backend window]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GpuVm } from '../dist/gpuvm/gpuvm.js';
import { TrackOnlyBackend } from '../dist/backends/track-only.js';
import { VaWindowBackend } from '../dist/backends/va-window-backend.js';
import { SoftwareDevice } from '../dist/drm/software-device.js';
import { OwnedLock } from '../dist/locks/owned-lock.js';
import { RangeLock } from '../dist/locks/range-lock.js';
import { ResvLock } from '../dist/locks/resv.js';
import { SyncLock } from '../dist/locks/sync-lock.js';
import { runTask } from '../dist/locks/task.js';
import { Bo, Vm, VM_BO_POLICIES } from '../dist/vm/index.js';

const req = { addr: 0x10000, range: 0x4000, offset: 0x1000 };
const VA_RANGE = 1 << 24;

// The backend a variant commits through, and the BO it maps (which the VA window must give memory).
function backendAndBo(kind) {
  const bo = new Bo(0x100000, { name: 'bo' });
  if (kind === 'track-only') return { backend: new TrackOnlyBackend(), bo };
  const backend = new VaWindowBackend({ device: new SoftwareDevice(), size: VA_RANGE });
  backend.allocate(bo.gem);
  return { backend, bo };
}

function vmLoop(policy, kind) {
  const { backend, bo } = backendAndBo(kind);
  const vm = new Vm({ policy, start: 0, range: VA_RANGE, backend });
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

function modelLoop(policy, kind) {
  const immediateMode = policy !== 'resv';
  const gpuvm = new GpuVm({ start: 0, range: VA_RANGE, immediateMode });
  const { backend, bo } = backendAndBo(kind);
  const map = { ...req, obj: bo.gem };
  // Shaped like vm.map / vm.unmap: a call whose promise the caller awaits.
  const request = async (ops) => {
    // eslint-disable-next-line @typescript-eslint/await-thenable -- kept: the measured baseline since its first results
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

const VARIANTS = {
  model: modelLoop,
  'no locks': (policy, kind) => {
    stubLockMachinery();
    return vmLoop(policy, kind);
  },
  locked: vmLoop,
  'in task': (policy, kind) => {
    const run = vmLoop(policy, kind);
    return (n) => runTask('caller', () => run(n));
  },
};

// A variant's process: builds its loop, warms it up, then runs one round per message and answers with the
// CPU microseconds per map+unmap pair of that round.
async function serve(variant, policy, kind) {
  const run = VARIANTS[variant](policy, kind);
  // A round that throws rejects unhandled, and that ends this child with the error, as it should.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  process.on('message', async (pairs) => {
    const before = process.cpuUsage();
    await run(pairs);
    const used = process.cpuUsage(before);
    process.send((used.user + used.system) / pairs);
  });
  await run(5000); // warm-up: let the JIT settle
  process.send('ready');
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};
const quartiles = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[Math.floor((sorted.length - 1) / 4)], sorted[Math.ceil((3 * (sorted.length - 1)) / 4)]];
};

async function measureSet(policy, kind, pairs, rounds) {
  const names = Object.keys(VARIANTS);
  const children = names.map((variant) => fork(fileURLToPath(import.meta.url), ['--serve', variant, policy, kind]));
  const next = (child) => new Promise((resolve) => child.once('message', resolve));
  await Promise.all(children.map(next));
  const samples = names.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const i = (r + k) % names.length;
      const answer = next(children[i]);
      children[i].send(pairs);
      samples[i].push(await answer);
    }
  }
  for (const child of children) child.kill();
  return Object.fromEntries(names.map((name, i) => [name, samples[i]]));
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3], process.argv[4], process.argv[5]);
} else {
  const args = process.argv.slice(2);
  const at = args.indexOf('--backend');
  const kind = at < 0 ? 'track-only' : args.splice(at, 2)[1];
  if (kind !== 'track-only' && kind !== 'window') throw new Error(`--backend takes track-only or window, not ${kind}`);
  const pairs = Number(args[0] ?? (kind === 'window' ? 5000 : 20000));
  const rounds = Number(args[1] ?? 9);
  const sets = Number(args[2] ?? 5);
  const measurePolicy = async (policy) => {
    const all = {};
    for (let set = 0; set < sets; set++) {
      for (const [name, values] of Object.entries(await measureSet(policy, kind, pairs, rounds))) (all[name] ??= []).push(...values);
    }
    return all;
  };
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  console.log(`Backend ${kind}. CPU µs per map+unmap pair: median over ${sets} sets of fresh processes x ${rounds} interleaved rounds of ${pairs} pairs; ` +
    'overheads are medians of per-round ratios [interquartile range]');
  console.log('| policy | model | no locks | locked | **lock overhead** (locked / no locks) | locked / model | locked, caller in runTask | its overhead (/ no locks) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const policy of VM_BO_POLICIES) {
    const s = await measurePolicy(policy);
    const ratio = (a, b) => s[a].map((x, i) => x / s[b][i] - 1);
    const cell = (a, b) => {
      const r = ratio(a, b);
      const [lo, hi] = quartiles(r);
      return `${pct(median(r))} [${pct(lo)}, ${pct(hi)}]`;
    };
    const us = (name) => median(s[name]).toFixed(2);
    console.log(`| ${policy} | ${us('model')} | ${us('no locks')} | ${us('locked')} | **${cell('locked', 'no locks')}** | ${cell('locked', 'model')} | ${us('in task')} | ${cell('in task', 'no locks')} |`);
  }
}
