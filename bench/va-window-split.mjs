// SPDX-License-Identifier: MIT
// Where a VA window map+unmap pair spends its time, split into user and system CPU (process.cpuUsage), for
// three ways of making the same 1-page pair on the software device, each alternated with the others over 7
// rounds (medians):
//   addon     the two native calls alone (vaMap of an added source, vaUnmap)
//   window    VaWindow.map + VaWindow.unmap (argument checks, source lookup, error mapping)
//   commit    VaWindowBackend.commit of a precomputed map op list, then of its unmap op list
// Compare the system column with bench/va-window.c's (run it under `/usr/bin/time`) to see what the kernel's
// part costs in this process against a small C one.
//
//   npm run build:ts && node bench/va-window-split.mjs [pairs per round]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { SoftwareDevice, VaWindow, VaWindowBackend, TrackOnlyBackend, Vm, Bo } = await import(join(root, 'dist', 'index.js'));
const { native } = await import(join(root, 'dist', 'native.js'));
const pairs = Number(process.argv[2] ?? 50_000);
const P = BigInt(native().pageSize);

const device = new SoftwareDevice();
const buffer = device.createBuffer(P);
const window = VaWindow.reserve(3n * P);
const rawWindow = native().vaReserve(3n * P);
const rawSource = native().vaAddSource(rawWindow, buffer.fd);
const opsVm = new Vm({ policy: 'resv', start: 0n, range: 3n * P, backend: new TrackOnlyBackend() });
const opsBo = new Bo(P);
const mapOps = opsVm.gpuvm.smMapOps({ addr: P, range: P, obj: opsBo.gem, offset: 0n });
await opsVm.commit(mapOps);
const unmapOps = opsVm.gpuvm.smUnmapOps(P, P);
const backend = new VaWindowBackend({ device, size: 3n * P });
backend.allocate(opsBo.gem);

const paths = {
  addon: () => { native().vaMap(rawWindow, P, rawSource, 0n, P, false); native().vaUnmap(rawWindow, P, P); },
  window: () => { window.map(P, buffer, { sourceOffset: 0n, length: P }); window.unmap(P, P); },
  commit: () => { backend.commit(opsVm.gpuvm, mapOps); backend.commit(opsVm.gpuvm, unmapOps); },
};
const rounds = Object.fromEntries(Object.keys(paths).map((name) => [name, { wall: [], user: [], sys: [] }]));
for (const body of Object.values(paths)) for (let i = 0; i < 5_000; i++) body(); // warm-up
for (let round = 0; round < 7; round++) {
  for (const [name, body] of Object.entries(paths)) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < pairs; i++) body();
    const wall = Number(process.hrtime.bigint() - start) / pairs;
    const used = process.cpuUsage(cpu);
    rounds[name].wall.push(wall);
    rounds[name].user.push((used.user * 1000) / pairs);
    rounds[name].sys.push((used.system * 1000) / pairs);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1].toFixed(0);
process.stdout.write('| path | wall ns/pair | user ns/pair | system ns/pair |\n|---|---:|---:|---:|\n');
for (const [name, r] of Object.entries(rounds)) process.stdout.write(`| ${name} | ${median(r.wall)} | ${median(r.user)} | ${median(r.sys)} |\n`);
backend.close();
window.close();
native().vaRelease(rawWindow);
buffer.close();
device.close();
