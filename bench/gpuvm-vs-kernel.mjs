// SPDX-License-Identifier: MIT
// The GPUVM model against the kernel's own C, side by side on this machine.
//
// 1. Fetches Debian sid's linux-source through a private apt configuration (lib/qemu/apt.ts; nothing on the
//    machine changes) and keeps, in the cache, only the files it needs: drivers/gpu/drm/drm_gpuvm.c,
//    include/drm/drm_gpuvm.h and the rbtree / interval-tree code. They are never part of this repository.
// 2. Compiles them unmodified with -O2 against bench/kernel-gpuvm/ (this project's shim headers, where
//    the slab allocator is malloc and lock assertions are no-ops, and its trace driver).
// 3. Checks that the driver prints what `drm-gpuvm trace` prints, byte for byte, on the spec's trace cases
//    (and their expected .out files) and on generated mixed-profile traces at the u64 edges; it stops there
//    if they differ.
// 4. Times `trace-driver --time` against `drm-gpuvm trace --time` (the same trace files; only the map/unmap
//    requests are timed, monotonic clock) on four workloads, in alternating pairs, and prints the medians
//    with their ratios, the load average seen during the pairs, and the memory per mapping at 1M live.
//
// Run (the build first; one bench at a time on a shared machine):
//   npm run build:ts && flock /tmp/drm-gpuvm-bench.lock node bench/gpuvm-vs-kernel.mjs [--cases DIR]
//     [--rounds 5] [--requests 3000000] [--rows steady-10k,steady-100k,steady-1m,random] [--refresh]
// --cases: the directory of NAME.trace / NAME.out pairs (default test/fixtures/trace-cases).
// --refresh: fetch linux-source again even if a copy is cached.
// --write-random FILE [--random-requests N]: only write the random workload's trace (N requests, default
//   200,000; the first requests are the same for every N) to FILE and stop, for profiling it elsewhere.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { debFields, parseDepends, PrivateApt, suiteSources } from '../dist/qemu/apt.js';
import { mulberry32 } from '../dist/mulberry32.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHIM = join(ROOT, 'bench', 'kernel-gpuvm');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** The kernel files the driver is built from, as paths inside the source tree. */
const KERNEL_FILES = [
  'drivers/gpu/drm/drm_gpuvm.c',
  'include/drm/drm_gpuvm.h',
  'include/linux/rbtree.h',
  'include/linux/rbtree_types.h',
  'include/linux/rbtree_augmented.h',
  'include/linux/interval_tree_generic.h',
  'lib/rbtree.c',
];

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: join(ROOT, 'test', 'fixtures', 'trace-cases') },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '3000000' },
    rows: { type: 'string', default: 'steady-10k,steady-100k,steady-1m,random' },
    refresh: { type: 'boolean', default: false },
    'write-random': { type: 'string' },
    'random-requests': { type: 'string', default: '200000' },
  },
});
if (values['write-random'] !== undefined) {
  writeRandomTrace(values['write-random'], 1, Number(values['random-requests']));
  process.exit(0);
}
const rounds = Number(values.rounds);
const steadyRequests = Number(values.requests);

/** The four workloads: name, what the table calls it, and how its trace is written. */
const WORKLOADS = [
  steadyWorkload('steady-10k', 10000),
  steadyWorkload('steady-100k', 100000),
  steadyWorkload('steady-1m', 1000000),
  {
    name: 'random',
    label: 'random, 200,000 requests over 64 BOs, 4M-page VA',
    write: (file) => writeRandomTrace(file, 1, 200000),
  },
].filter((w) => values.rows.split(',').includes(w.name));

function steadyWorkload(name, live) {
  return {
    name,
    label: `steady, ${live.toLocaleString('en-US')} live (trace-gen --profile steady --live ${live} --requests ${steadyRequests})`,
    write: (file) => traceGen(file, ['--seed', '1', '--profile', 'steady', '--live', String(live), '--requests', String(steadyRequests)]),
  };
}

function cacheDir() {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'drm-gpuvm', 'kernel-gpuvm');
}

/** The cached kernel files (fetched first if needed): their root directory and the package version. */
async function kernelSources() {
  const cache = cacheDir();
  const tree = join(cache, 'source');
  const versionFile = join(cache, 'version');
  if (!values.refresh && existsSync(versionFile) && KERNEL_FILES.every((f) => existsSync(join(tree, f)))) {
    return { tree, version: readFileSync(versionFile, 'utf8').trim() };
  }
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, '.tmp-'));
  try {
    const apt = new PrivateApt(join(work, 'apt'), suiteSources('sid'), 'amd64'); // linux-source is Architecture: all
    await apt.update();
    // linux-source is a metapackage: the sources are in the linux-source-X.Y it depends on.
    const [meta] = await apt.download(['linux-source'], join(work, 'debs'));
    const version = debFields(meta, 'Version').Version;
    const real = parseDepends(debFields(meta, 'Depends').Depends).map((alts) => alts[0]).find((n) => n.startsWith('linux-source-'));
    if (real === undefined) throw new Error(`linux-source ${version} depends on no linux-source-X.Y package`);
    const [deb] = await apt.download([real], join(work, 'debs'));
    const tarball = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 1 << 20 })
      .split('\n').map((l) => l.trim().split(/\s+/).pop()).find((p) => /\/usr\/src\/linux-source-[^/]+\.tar\.xz$/.test(p ?? ''));
    if (tarball === undefined) throw new Error(`${real} holds no linux-source tarball`);
    execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', 'sh', deb, work, tarball]);
    const top = tarball.split('/').pop().replace(/\.tar\.xz$/, '');
    execFileSync('tar', ['-xJf', join(work, tarball), '-C', work, ...KERNEL_FILES.map((f) => `${top}/${f}`)]);
    const staged = join(work, 'source');
    for (const f of KERNEL_FILES) {
      mkdirSync(dirname(join(staged, f)), { recursive: true });
      renameSync(join(work, top, f), join(staged, f));
    }
    rmSync(tree, { recursive: true, force: true });
    renameSync(staged, tree);
    writeFileSync(versionFile, `${real} ${version}\n`);
    return { tree, version: `${real} ${version}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds the trace driver into `dir`; returns its path and the compiler's version line. */
function buildDriver(tree, dir) {
  const out = join(dir, 'trace-driver');
  execFileSync('gcc', ['-O2', '-std=gnu11', '-I', join(SHIM, 'include'), '-I', join(tree, 'include'),
    join(SHIM, 'trace-driver.c'), join(tree, 'drivers/gpu/drm/drm_gpuvm.c'), join(tree, 'lib/rbtree.c'), '-o', out], { stdio: 'inherit' });
  const cc = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return { driver: out, cc };
}

function traceGen(file, args) {
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(process.execPath, [CLI, 'trace-gen', ...args], { stdio: ['ignore', fd, 'inherit'] });
    if (r.status !== 0) throw new Error(`trace-gen ${args.join(' ')} failed`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The random workload: a 4M-page VM (16 GiB), 64 BOs of 64 MiB, and `requests` requests at random page
 * addresses with log-uniform lengths of 1 to 256 pages: 60% BO maps at a random offset, 40% unmaps. The
 * requests overlap each other heavily, so the ops are a mix of MAP, REMAP (prev, next or both) and UNMAP.
 */
function writeRandomTrace(file, seed, requests) {
  const random = mulberry32(seed);
  const below = (n) => Math.floor(random() * n);
  const PAGES = 1 << 22;
  const BO_PAGES = 1 << 14;
  const hex = (pages) => `0x${(BigInt(pages) * 0x1000n).toString(16)}`;
  const lines = [`# gpuvm-vs-kernel random workload seed=${seed} requests=${requests}`, `vm 0x0 ${hex(PAGES)}`];
  for (let i = 0; i < 64; i++) lines.push(`bo b${i} ${hex(BO_PAGES)}`);
  for (let i = 0; i < requests; i++) {
    const pages = 1 + below(1 << below(9));
    const addr = below(PAGES - pages + 1);
    if (random() < 0.6) lines.push(`map ${hex(addr)} ${hex(pages)} b${below(64)} ${hex(below(BO_PAGES - pages + 1))}`);
    else lines.push(`unmap ${hex(addr)} ${hex(pages)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const kernelCmd = (driver, ...args) => [driver, ...args];
const modelCmd = (...args) => [process.execPath, CLI, 'trace', ...args];

/** Byte-for-byte check of the two replays; returns the number of traces compared. Exits 1 on a difference. */
function checkSameOutput(driver, work) {
  const traces = [];
  if (existsSync(values.cases)) {
    for (const name of readdirSync(values.cases).filter((n) => n.endsWith('.trace')).sort()) {
      const out = join(values.cases, name.replace(/\.trace$/, '.out'));
      traces.push({ name, file: join(values.cases, name), expected: existsSync(out) ? readFileSync(out, 'utf8') : null });
    }
  } else {
    process.stderr.write(`note: no spec cases at ${values.cases} (give --cases DIR); checking generated traces only\n`);
  }
  for (let seed = 1; seed <= 12; seed++) {
    const file = join(work, `mixed-${seed}.trace`);
    traceGen(file, ['--seed', String(seed), '--profile', 'mixed', '--requests', '2000']);
    traces.push({ name: `trace-gen --profile mixed --seed ${seed} --requests 2000`, file, expected: null });
  }
  for (const t of traces) {
    const kernel = run(kernelCmd(driver, t.file));
    const model = run(modelCmd(t.file));
    const problem = kernel !== model ? 'the kernel driver and drm-gpuvm trace differ'
      : t.expected !== null && model !== t.expected ? 'both differ from the expected .out' : null;
    if (problem !== null) {
      writeFileSync(join(work, 'kernel.out'), kernel);
      writeFileSync(join(work, 'model.out'), model);
      process.stderr.write(`${t.name}: ${problem} (outputs kept in ${work})\n`);
      process.exit(1);
    }
  }
  return traces.length;
}

const TIME_LINE = /^time: requests=(\d+) total_ms=([\d.]+) ns_per_request=([\d.]+) ops\(map=(\d+) remap=(\d+) unmap=(\d+)\) final_mappings=(\d+)$/m;

function timeOnce(argv) {
  const m = TIME_LINE.exec(run(argv));
  if (m === null) throw new Error(`${argv.join(' ')}: no time line`);
  return { ns: Number(m[3]), outcome: `requests=${m[1]} map=${m[4]} remap=${m[5]} unmap=${m[6]} final=${m[7]}` };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeWorkload(driver, file) {
  const kernel = [];
  const model = [];
  const loads = [];
  let outcome = null;
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]);
    // Alternate which side goes first, so neither always runs right after the other's garbage.
    const order = round % 2 === 0 ? ['kernel', 'model'] : ['model', 'kernel'];
    for (const side of order) {
      const r = timeOnce(side === 'kernel' ? kernelCmd(driver, '--time', file) : modelCmd('--time', file));
      if (outcome === null) outcome = r.outcome;
      else if (r.outcome !== outcome) throw new Error(`${file}: ${side} replay ended differently (${r.outcome} vs ${outcome})`);
      (side === 'kernel' ? kernel : model).push(r.ns);
    }
  }
  loads.push(loadavg()[0]);
  return { kernel: median(kernel), model: median(model), kernelAll: kernel, modelAll: model, loads, outcome };
}

/** Bytes per mapping once the 1M steady fill is mapped: the kernel's malloc growth, the model's heap + typed arrays. */
function memoryAt1M(driver, work) {
  const fill = join(work, 'fill-1m.trace');
  traceGen(fill, ['--seed', '1', '--profile', 'steady', '--live', '1000000', '--requests', '0']);
  const k = /bytes_per_mapping=([\d.]+)/.exec(run(kernelCmd(driver, '--time', '--memory', fill)));
  const replay = join(ROOT, 'bench', 'gpuvm-replay.mjs');
  const m = JSON.parse(run([process.execPath, '--expose-gc', replay, '--child', '1000000', '--requests', '5']));
  return { kernel: Number(k[1]), heap: m.bytesPerMapping, arrays: m.arrayBufferBytesPerMapping };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');

async function main() {
  const started = new Date();
  const { tree, version } = await kernelSources();
  const work = mkdtempSync(join(tmpdir(), 'gpuvm-vs-kernel-'));
  const { driver, cc } = buildDriver(tree, work);
  const sum = createHash('sha256').update(readFileSync(join(tree, KERNEL_FILES[0]))).digest('hex').slice(0, 16);
  const checked = checkSameOutput(driver, work);
  process.stdout.write(`kernel: ${version} (drm_gpuvm.c sha256 ${sum}), ${cc} -O2; node ${process.version}\n`);
  process.stdout.write(`same output: ${checked} traces byte for byte (spec cases from ${values.cases} and generated mixed traces)\n`);
  process.stdout.write(`started ${started.toISOString()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${rounds} alternating pairs per row\n\n`);
  process.stdout.write('| workload | kernel C ns/request | drm-gpuvm ns/request | ratio | load average during the pairs |\n|---|---:|---:|---:|---|\n');
  const details = [];
  for (const w of WORKLOADS) {
    const file = join(work, `${w.name}.trace`);
    w.write(file);
    const r = timeWorkload(driver, file);
    rmSync(file);
    const loads = `${Math.min(...r.loads).toFixed(1)}-${Math.max(...r.loads).toFixed(1)}`;
    process.stdout.write(`| ${w.label} | ${fmt(r.kernel)} | ${fmt(r.model)} | ${(r.model / r.kernel).toFixed(2)}x | ${loads} |\n`);
    details.push(`${w.name}: ${r.outcome}; kernel ${r.kernelAll.map(fmt).join('/')}, drm-gpuvm ${r.modelAll.map(fmt).join('/')}`);
  }
  if (values.rows.split(',').includes('steady-1m')) {
    const mem = memoryAt1M(driver, work);
    process.stdout.write(`\nmemory at 1M live (steady fill): kernel ${mem.kernel.toFixed(1)} B per mapping (malloc growth); ` +
      `drm-gpuvm ${(mem.heap + mem.arrays).toFixed(1)} B (${mem.heap.toFixed(1)} JS heap after GC + ${mem.arrays.toFixed(1)} typed arrays)\n`);
  }
  process.stdout.write(`\nper round (ns/request; both sides ended the same: requests and op counts and final mappings):\n${details.map((d) => `- ${d}`).join('\n')}\n`);
  process.stdout.write(`finished ${new Date().toISOString()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  rmSync(work, { recursive: true, force: true });
}

await main();
