// SPDX-License-Identifier: MIT
// Child process of gpu-scenarios.ts importsDmaBufOfAnotherProcess: fd 3 is a dma-buf (a memfd on the
// software device) another process exported. Imports it into a Gpu on argv[2] ('software' or a DRM node),
// maps it in a VM, reads what the parent wrote at argv[3] (the page size), writes 'child' at offset 0, and
// prints what it saw as JSON.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { openGpu } = await import(`${root}dist/index.js`);
const [path, pageText] = process.argv.slice(2);
const page = BigInt(pageText);
const text = (bytes) => new TextDecoder().decode(bytes);

const gpu = openGpu(path);
const vm = gpu.createVm({ policy: 'resv', range: 1n << 32n });
const bo = gpu.importBo(3, { name: 'from-parent' });
await vm.map({ addr: 0n, range: 2n * page, bo });
let read;
if (gpu.describe().cpuVaAccess.supported) {
  read = text(await vm.read(page, 6n));
  await vm.write(0n, new TextEncoder().encode('child'));
} else {
  const mapping = bo.map();
  read = text(mapping.bytes.subarray(Number(page), Number(page) + 6));
  mapping.bytes.set(new TextEncoder().encode('child'));
  mapping.unmap();
}
const report = { external: bo.external, extobj: vm.isExtobj(bo), read };
bo.close();
vm.close();
gpu.close();
process.stdout.write(`${JSON.stringify({ ...report, released: bo.released })}\n`);
