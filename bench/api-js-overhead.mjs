// SPDX-License-Identifier: MIT
// What the public API's own JavaScript costs per call, on the host, without DRM: the ioctls under
// DrmDevice.getCap and DrmDevice.createDumb + GemBuffer.close are replaced by JS stubs, so what is left is
// the argument checks, error plumbing, handle bookkeeping and finalizer registration that bench/native-ioctl
// measures, under QEMU's emulation, on top of the binding. It is a profiling aid for that layer and proves
// nothing about the kernel path (bench/native-ioctl.mjs does, in the VM).
//
//   npm run build:ts && node bench/api-js-overhead.mjs [--root DIR]
//   node --cpu-prof --cpu-prof-dir=DIR bench/api-js-overhead.mjs   then bench/cpu-profile-summary.mjs DIR/*.cpuprofile
//
// --root runs another checkout's dist/ (an A/B against a build of another commit); rounds alternate within
// this process only, so compare two builds by alternating runs of this script.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) } } });
const { native } = await import(join(values.root, 'dist', 'native.js'));
const { DrmDevice } = await import(join(values.root, 'dist', 'drm', 'drm-device.js'));

// The stubs: a fake fd that passes DrmDevice.open's checks, and CREATE_DUMB handing out handle 1 each time,
// as the kernel does in a create/close loop (it takes the lowest free handle).
const binding = native();
binding.open = () => 1000;
binding.fdKind = () => ({ kind: 'drm', minor: 0 });
binding.version = () => ({ name: 'stub', major: 1, minor: 0, patchlevel: 0, date: '', desc: '' });
binding.createDumb = (fd, width, height, bpp, out) => {
  out[0] = 1;
  out[1] = width * (bpp / 8);
  return BigInt(out[1] * height);
};
binding.gemClose = () => undefined;
binding.getCap = () => 1n;
binding.close = () => undefined;

const device = DrmDevice.open('/dev/dri/card0');
const created = new Uint32Array(2);
const paths = {
  'public API pair': () => device.createDumb({ width: 1024, height: 1, bpp: 32 }).close(),
  'stubs alone pair': () => {
    binding.createDumb(1000, 1024, 1, 32, created);
    binding.gemClose(1000, created[0]);
  },
  'public API getCap': () => device.getCap(5n),
};

function timeNs(count, body) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) body();
  return Number(process.hrtime.bigint() - start) / count;
}

const load = loadavg().map((v) => v.toFixed(1)).join(' ');
for (const body of Object.values(paths)) timeNs(200_000, body);
const rounds = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
for (let r = 0; r < 5; r++) for (const [name, body] of Object.entries(paths)) rounds[name].push(timeNs(500_000, body));
const median = (list) => [...list].sort((a, b) => a - b)[2];
process.stdout.write(`${values.root}: load ${load}; ` +
  Object.entries(rounds).map(([name, list]) => `${name} ${median(list).toFixed(0)} ns`).join(', ') + ' (medians of 5 rounds of 500,000)\n');
