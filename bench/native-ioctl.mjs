// SPDX-License-Identifier: MIT
// Cost of a native call against a static C program doing the same ioctls, in the same VM boot:
// DRM_IOCTL_GET_CAP, and CREATE_DUMB + GEM_CLOSE pairs (targets through the public API: within 1.2x and 1.3x of C).
//
//   node bench/native-ioctl.mjs            on the host: builds the C program, boots the VM, runs the
//                                          measurement there, writes bench/native-ioctl-results-KERNEL.md
//   node bench/native-ioctl.mjs --measure  the part that runs inside the VM (needs a vgem card node)
//
// Each round runs C, then the raw binding, then the public API (DrmDevice / GemBuffer), and the median
// of the rounds is reported, so drift in the emulated machine hits all three alike. Needs `npm run
// build:ts` (dist/) and gcc with a static libc (Debian: libc6-dev).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the working tree, which the VM shares (the guest has its own /tmp), in a folder git ignores and
// node-gyp does not wipe (it rebuilds build/ from scratch).
const cacheDir = join(root, 'node_modules', '.cache', 'drm-gpuvm-bench');
const cProgram = join(cacheDir, 'native-ioctl');
const ROUNDS = 5;
const GETCAP_CALLS = 200_000;
const PAIRS = 20_000;
const DRM_CAP_PRIME = 5n;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timeNs(count, body) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) body();
  return Number(process.hrtime.bigint() - start) / count;
}

async function measure() {
  const { listDevices, DrmDevice } = await import(join(root, 'dist', 'index.js'));
  const binding = createRequire(import.meta.url)('node-gyp-build')(root);
  const card = listDevices().find((node) => node.type === 'card');
  if (card === undefined) throw new Error('no DRM card node: run this inside `drm-gpuvm vm`');
  // Plain JS (Node 20 has no `using`): the device is closed at the end of measure().
  const device = DrmDevice.open(card.path);
  const fd = device.fd;
  const created = new Uint32Array(2);
  const raw = {
    getCap: () => binding.getCap(fd, DRM_CAP_PRIME),
    pair: () => {
      binding.createDumb(fd, 1024, 1, 32, created);
      binding.gemClose(fd, created[0]);
    },
  };
  const api = {
    getCap: () => device.getCap(DRM_CAP_PRIME),
    pair: () => device.createDumb({ width: 1024, height: 1, bpp: 32 }).close(),
  };
  // Warm-up: let V8 optimise the call paths before any timing.
  for (const path of [raw, api]) {
    timeNs(20_000, path.getCap);
    timeNs(2_000, path.pair);
  }
  const rounds = { c: [], raw: [], api: [], floor: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const out = execFileSync(cProgram, [card.path, String(GETCAP_CALLS), String(PAIRS)], { encoding: 'utf8' });
    rounds.c.push(JSON.parse(out));
    for (const [name, path] of [['raw', raw], ['api', api]]) {
      rounds[name].push({ getCapNs: timeNs(GETCAP_CALLS, path.getCap), createClosePairNs: timeNs(PAIRS, path.pair) });
    }
    // The floor: a native call that makes no syscall (reads a counter), what any binding call costs at least.
    rounds.floor.push({ callNs: timeNs(GETCAP_CALLS, () => binding.liveMappings()) });
  }
  const summary = {};
  for (const name of ['c', 'raw', 'api']) {
    const list = rounds[name];
    summary[name] = { getCapNs: median(list.map((r) => r.getCapNs)), createClosePairNs: median(list.map((r) => r.createClosePairNs)) };
  }
  summary.nativeCallFloorNs = median(rounds.floor.map((r) => r.callNs));
  device.close();
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  process.stdout.write(`BENCH-RESULT ${JSON.stringify({ kernel, node: process.version, device: card.path, rounds: ROUNDS, getCapCalls: GETCAP_CALLS, pairs: PAIRS, summary })}\n`);
}

function report(result, command, load) {
  const { summary: s } = result;
  const ratio = (a, b) => (a / b).toFixed(2);
  const us = (ns) => (ns / 1000).toFixed(2);
  const over = (ns, c) => `${Math.round(ns - c)} ns`;
  return `# Native call cost against C (bench/native-ioctl.mjs)

Command: \`${command}\`
Measured ${new Date().toISOString().slice(0, 10)} inside \`drm-gpuvm vm\` (QEMU; the runner uses KVM only where it works, else TCG:
a C GET_CAP above 1 us means TCG; 2 host cores shared with other jobs), kernel ${result.kernel}, Node ${result.node}, vgem ${result.device}. Median of ${result.rounds} rounds;
each round runs C, the raw binding and the public API back to back. ${result.getCapCalls} GET_CAP calls and
${result.pairs} CREATE_DUMB (4 KiB) + GEM_CLOSE pairs per round. Emulated timings: compare ratios, not absolutes.
Host load average: ${load.start} before, ${load.end} after.

| operation | C | binding (raw) | ratio | over C | public API | ratio | over C | target |
|---|---|---|---|---|---|---|---|---|
| DRM_IOCTL_GET_CAP | ${us(s.c.getCapNs)} us | ${us(s.raw.getCapNs)} us | ${ratio(s.raw.getCapNs, s.c.getCapNs)}x | ${over(s.raw.getCapNs, s.c.getCapNs)} | ${us(s.api.getCapNs)} us | ${ratio(s.api.getCapNs, s.c.getCapNs)}x | ${over(s.api.getCapNs, s.c.getCapNs)} | 1.2x |
| CREATE_DUMB + GEM_CLOSE | ${us(s.c.createClosePairNs)} us | ${us(s.raw.createClosePairNs)} us | ${ratio(s.raw.createClosePairNs, s.c.createClosePairNs)}x | ${over(s.raw.createClosePairNs, s.c.createClosePairNs)} | ${us(s.api.createClosePairNs)} us | ${ratio(s.api.createClosePairNs, s.c.createClosePairNs)}x | ${over(s.api.createClosePairNs, s.c.createClosePairNs)} | 1.3x |

"over C" is what the binding adds to the syscall's own time (the C column), per GET_CAP or per pair.
A native call that makes no syscall at all costs ${us(s.nativeCallFloorNs)} us here (the Node-API call floor), so
C + floor bounds what any Node-API binding can reach: ${ratio(s.c.getCapNs + s.nativeCallFloorNs, s.c.getCapNs)}x for GET_CAP, ${ratio(s.c.createClosePairNs + 2 * s.nativeCallFloorNs, s.c.createClosePairNs)}x for a pair (two calls).

"binding (raw)" calls the addon's functions directly; "public API" goes through DrmDevice.getCap and
DrmDevice.createDumb + GemBuffer.close (argument checks, error mapping, handle bookkeeping, finalizer registration).

Raw result: \`${JSON.stringify(result)}\`
`;
}

if (process.argv.includes('--measure')) {
  await measure();
} else {
  const kernel = process.argv.includes('--kernel') ? process.argv[process.argv.indexOf('--kernel') + 1] : 'bookworm';
  const loadText = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  const load = { start: loadText() };
  mkdirSync(cacheDir, { recursive: true });
  execFileSync('gcc', ['-O2', '-static', '-Wall', '-o', cProgram, join(root, 'bench', 'native-ioctl.c')], { stdio: 'inherit' });
  const vm = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'vm', '--kernel', kernel, '--',
    process.execPath, fileURLToPath(import.meta.url), '--measure'], { encoding: 'utf8', cwd: root });
  const line = vm.stdout.split('\n').find((l) => l.startsWith('BENCH-RESULT '));
  if (vm.status !== 0 || line === undefined) {
    process.stderr.write(vm.stdout + vm.stderr);
    process.exit(1);
  }
  const result = JSON.parse(line.slice('BENCH-RESULT '.length));
  const command = `npm run build:ts && node bench/native-ioctl.mjs --kernel ${kernel}`;
  load.end = loadText();
  const text = report(result, command, load);
  writeFileSync(join(root, 'bench', `native-ioctl-results-${kernel}.md`), text);
  process.stdout.write(text);
}
