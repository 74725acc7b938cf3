// SPDX-License-Identifier: MIT
// Replay cost of the GPUVM model per request, and heap per live mapping (the targets: under 1.5 us per
// request at 100k live mappings, under 4 us at 1M, growth no faster than log n, under 200 bytes per mapping).
//
// For each size N the steady stream of lib/trace/trace-generator.ts (seed, N) is replayed through GpuVm the
// way `drm-gpuvm trace` replays a trace: smMapOps / smUnmapOps, then apply, with the BO-backed mappings
// linked to their VmBo. The fill (N whole-slot maps) is not timed; the heap is measured around it, after a
// full GC on each side (needs --expose-gc), on the JS heap and apart for the typed arrays' storage (the
// tree's leaf keys live outside the heap). Then the steady requests, prepared up front so that parsing and
// generating are not timed, are replayed in ROUNDS equal chunks; each chunk's cost per request is measured
// as process CPU time (user + system: the build machine is shared, and CPU time is what a request costs
// whatever else runs) and as wall time, and the median chunk is reported. Each size runs in its own
// process, so one size's garbage and JIT state do not leak into the next.
//
// Run: npm run build:ts && node --expose-gc bench/gpuvm-replay.mjs [--sizes 10000,100000,1000000]
//        [--requests 200000] [--seed 1]
// Profile one size: node --expose-gc --cpu-prof --cpu-prof-dir=DIR bench/gpuvm-replay.mjs --child 100000
// (the profile holds the fill too; the replay's share is the subtree under `replay`).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GemObject } from '../dist/gpuvm/gem.js';
import { GpuVm } from '../dist/gpuvm/gpuvm.js';
import { generateTrace } from '../dist/trace/trace-generator.js';

const ROUNDS = 5;
/** Requests replayed untimed after the fill, so the timed chunks see warm code and a settled tree. */
const WARMUP = 20000;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    requests: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '1' },
    child: { type: 'string' },
  },
});
const requests = Number(values.requests);
const seed = Number(values.seed);

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(measure(Number(values.child)))}\n`);
} else {
  if (typeof globalThis.gc !== 'function') {
    process.stderr.write('run with node --expose-gc: the heap figure needs a full GC before and after the fill\n');
    process.exit(2);
  }
  const rows = [];
  for (const size of values.sizes.split(',').map(Number)) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(size),
      '--requests', String(requests), '--seed', String(seed)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const row = JSON.parse(out);
    rows.push(row);
    process.stdout.write(`${format(row)}\n`);
  }
  const [small, , large] = rows;
  if (rows.length === 3) {
    process.stdout.write(`growth ${small.live}->${large.live}: cpu x${(large.cpuNs / small.cpuNs).toFixed(2)}, ` +
      `log2 n x${(Math.log2(large.live) / Math.log2(small.live)).toFixed(2)}\n`);
  }
}

function format(r) {
  return `live=${r.live} (mean ${r.meanLive}) requests=${r.timed} cpu_ns_per_request=${r.cpuNs.toFixed(0)} ` +
    `wall_ns_per_request=${r.wallNs.toFixed(0)} (chunks cpu ${r.chunksCpu.map((x) => x.toFixed(0)).join('/')}) ` +
    `warmup_ops(map=${r.ops.map} remap=${r.ops.remap} unmap=${r.ops.unmap}) heap_bytes_per_mapping=${r.bytesPerMapping.toFixed(1)} ` +
    `+ array_buffer_bytes_per_mapping=${r.arrayBufferBytesPerMapping.toFixed(1)}`;
}

function measure(size) {
  const stream = generateTrace({ seed, profile: 'steady', requests: WARMUP + requests, liveMappings: size });
  let vm = null;
  const gems = new Map();
  // The VM and BOs come first; the heap baseline is taken once they exist and before any mapping.
  let command = stream.next();
  for (; !command.done; command = stream.next()) {
    const c = command.value;
    if (c.kind === 'vm') vm = new GpuVm({ start: c.start, range: c.range });
    else if (c.kind === 'bo') gems.set(c.name, new GemObject(c.size, c.name));
    else if (c.kind === 'map') break;
  }
  globalThis.gc();
  const before = process.memoryUsage();
  for (; !command.done; command = stream.next()) {
    const c = command.value;
    if (c.kind === 'comment') break;
    vm.apply(vm.smMapOps({ addr: c.addr, range: c.range, obj: gems.get(c.bo), offset: c.offset }));
  }
  globalThis.gc();
  const after = process.memoryUsage();
  const bytesPerMapping = (after.heapUsed - before.heapUsed) / vm.vaCount;
  // The tree's leaf key arrays are typed arrays, whose storage lives outside the JS heap.
  const arrayBufferBytesPerMapping = (after.arrayBuffers - before.arrayBuffers) / vm.vaCount;
  const live = vm.vaCount;

  const todo = [];
  for (const c of stream) {
    if (c.kind === 'map') todo.push({ map: true, addr: c.addr, range: c.range, obj: gems.get(c.bo), offset: c.offset });
    else if (c.kind === 'unmap') todo.push({ map: false, addr: c.addr, range: c.range });
  }
  const ops = { map: 0, remap: 0, unmap: 0 };
  const replay = (from, to, count) => {
    for (let i = from; i < to; i++) {
      const r = todo[i];
      const list = r.map ? vm.smMapOps(r) : vm.smUnmapOps(r.addr, r.range);
      if (count) for (const op of list.ops) ops[op.type]++;
      vm.apply(list);
    }
  };
  // The op mix is counted on the warmup requests, so the timed chunks do not pay for counting.
  replay(0, WARMUP, true);
  const chunk = Math.floor(requests / ROUNDS);
  const chunksCpu = [];
  const chunksWall = [];
  let liveSum = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const from = WARMUP + round * chunk;
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    replay(from, from + chunk, false);
    const wall = Number(process.hrtime.bigint() - wall0);
    const cpu = process.cpuUsage(cpu0);
    chunksCpu.push(((cpu.user + cpu.system) * 1000) / chunk);
    chunksWall.push(wall / chunk);
    liveSum += vm.vaCount;
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    size, live, meanLive: Math.round(liveSum / ROUNDS), timed: chunk * ROUNDS, cpuNs: median(chunksCpu), wallNs: median(chunksWall),
    chunksCpu, ops, bytesPerMapping, arrayBufferBytesPerMapping,
  };
}
