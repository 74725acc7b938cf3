// SPDX-License-Identifier: MIT
// Requests per second through the VA window backend (a map + unmap request pair of 1, 16 and 256 pages) on
// the software device, against the bare mmap calls the backend makes, from C (bench/va-window.c), in the
// same run. The goal: the backend within 1.5x of C. Rows:
//   C            the two MAP_FIXED mmaps per pair (map the memfd range, punch the hole back)
//   C+checks     the same plus an fstat and F_GET_SEALS before each map, which the addon made per map until
//                it checked each source once (vaAddSource); kept to show what that step saved
//   commit       VaWindowBackend.commit of a precomputed map op list, then of its unmap op list
//   Vm(window)   the whole request: await vm.map / vm.unmap with the window backend (locks, ops, apply)
//   Vm(track)    the same requests with the track-only backend, i.e. the request path without a device
// Each round runs all four in turn; the median of the rounds is reported.
//
//   npm run build:ts && node bench/va-window.mjs     (writes bench/va-window.results.md)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(root, 'node_modules', '.cache', 'drm-gpuvm-bench');
const cProgram = join(cacheDir, 'va-window');
const ROUNDS = 15;
const startLoad = loadavg()[0];
const PAIRS = { 1: 20_000, 16: 20_000, 256: 5_000 };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

mkdirSync(cacheDir, { recursive: true });
execFileSync('gcc', ['-O2', '-Wall', '-o', cProgram, join(root, 'bench', 'va-window.c')]);
const { SoftwareDevice, VaWindowBackend, TrackOnlyBackend, Vm, Bo, native } = await import(join(root, 'dist', 'index.js'))
  .then(async (index) => ({ ...index, native: (await import(join(root, 'dist', 'native.js'))).native }));
const P = BigInt(native().pageSize);

async function timeNs(pairs, body) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) await body();
  return Number(process.hrtime.bigint() - start) / pairs;
}

async function paths(device, pages) {
  const range = BigInt(pages) * P;
  const windowBackend = new VaWindowBackend({ device, size: 2n * range + P });
  const bo = new Bo(range, { name: 'bench' });
  windowBackend.allocate(bo.gem);
  const windowVm = new Vm({ policy: 'resv', start: 0n, range: 2n * range + P, backend: windowBackend });
  const trackVm = new Vm({ policy: 'resv', start: 0n, range: 2n * range + P, backend: new TrackOnlyBackend() });
  // Op lists for commit alone, made on a separate VM: map onto the empty tree, then unmap of the result.
  const opsVm = new Vm({ policy: 'resv', start: 0n, range: 2n * range + P, backend: new TrackOnlyBackend() });
  const opsBo = new Bo(range);
  const mapOps = opsVm.gpuvm.smMapOps({ addr: P, range, obj: opsBo.gem, offset: 0n });
  await opsVm.commit(mapOps);
  const unmapOps = opsVm.gpuvm.smUnmapOps(P, range);
  const commitBackend = new VaWindowBackend({ device, size: 2n * range + P });
  commitBackend.allocate(opsBo.gem);
  return {
    commit: async () => { await commitBackend.commit(opsVm.gpuvm, mapOps); await commitBackend.commit(opsVm.gpuvm, unmapOps); },
    window: async () => { await windowVm.map({ addr: P, range, bo }); await windowVm.unmap(P, range); },
    track: async () => { await trackVm.map({ addr: P, range, bo }); await trackVm.unmap(P, range); },
  };
}

const device = new SoftwareDevice();
const rows = [];
for (const pages of [1, 16, 256]) {
  const pairs = PAIRS[pages];
  const run = await paths(device, pages);
  for (const body of Object.values(run)) await timeNs(2_000, body); // warm-up
  const rounds = { c: [], cChecked: [], commit: [], window: [], track: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.c.push(Number(execFileSync(cProgram, [String(pages), String(pairs), '0'], { encoding: 'utf8' })));
    rounds.cChecked.push(Number(execFileSync(cProgram, [String(pages), String(pairs), '1'], { encoding: 'utf8' })));
    for (const [name, body] of Object.entries(run)) rounds[name].push(await timeNs(pairs, body));
  }
  const m = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
  rows.push({ pages, ...m });
}

const us = (ns) => (ns / 1000).toFixed(2);
const rate = (ns) => Math.round(1e9 / ns).toLocaleString('en-US');
const lines = [
  '# VA window backend: map+unmap request pairs vs the bare mmap calls from C',
  '',
  `Command: \`npm run build:ts && node bench/va-window.mjs\` (software device, memfd BO; ${ROUNDS} rounds, median).`,
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores shared with other work, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${startLoad.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end: ratios on a loaded machine are noisy, compare rows of one run only.`,
  'The addon checks each source once when a window first maps it (fstat, F_GET_SEALS, a dup of the fd), not per map: C+checks shows what a per-map check costs in C. C reserves the window the backend does (2 x pages + 1, the mapping at page 1). commit adds the JS layer and the Node-API calls; Vm adds the request path (locks, op generation, apply).',
  '',
  '| pages | C: 2 mmaps (µs/pair) | C+checks (µs/pair) | commit (µs/pair) | commit / C | Vm(window) (µs/pair) | Vm(window) / C | Vm(track-only) (µs/pair) | pairs/s: commit | pairs/s: Vm(window) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.pages} | ${us(r.c)} | ${us(r.cChecked)} | ${us(r.commit)} | ${(r.commit / r.c).toFixed(2)}x | ${us(r.window)} | ${(r.window / r.c).toFixed(2)}x | ${us(r.track)} | ${rate(r.commit)} | ${rate(r.window)} |`),
  '',
];
writeFileSync(join(root, 'bench', 'va-window.results.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
