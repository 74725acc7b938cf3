// SPDX-License-Identifier: MIT
// `drm-gpuvm demo`: a short tour of the device layer on the first usable DRM node, or on the software
// device where there is none: create a buffer, map it, write and read, share it as an fd, import it
// again, and, on vgem, put a fence on it and watch the dma-buf go busy and idle.
import { DmaBuf } from '../drm/dma-buf.js';
import { DrmDevice } from '../drm/drm-device.js';
import type { Device } from '../drm/device.js';
import { openDevice } from '../drm/open.js';
import { attachVgemFence } from '../drm/vgem-fence.js';
import { GemBuffer } from '../drm/gem-buffer.js';
import { runWindowDemoCli } from './demo-window.js';
import { oneOf, runCommand, UsageError, wholeNumber } from './command-line.js';

const USAGE = `usage: drm-gpuvm demo [--device PATH] [--backend window [--seed N] [--requests N] [--json]]
  --device PATH     the DRM node to use (default: the first usable one, else the software device)
  --backend window  instead of the tour: seeded map/remap/unmap requests through a Vm on the VA window
                    backend, every page read back and checked after every request
  --seed N          with --backend window: PRNG seed (default 1)
  --requests N      with --backend window: requests to issue (default 200)
  --json            with --backend window: print one JSON object instead of the two lines
`;

const SPEC = {
  name: 'demo',
  usage: USAGE,
  options: { device: { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' }, requests: { type: 'string' }, json: { type: 'boolean' } },
} as const;

const WINDOW_ONLY = ['seed', 'requests', 'json'] as const;

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)/g, '$1 ').trim();
}

async function fenceTour(buffer: GemBuffer, dmaBuf: DmaBuf): Promise<void> {
  say('\n4. Implicit fences (vgem): a write fence makes the buffer busy until it is signalled');
  const fence = attachVgemFence(buffer, { write: true });
  say(`   VGEM_FENCE_ATTACH (write) -> fence ${fence.id}`);
  say(`   dma-buf idle for reading? ${dmaBuf.isIdle('read')}; for writing? ${dmaBuf.isIdle('write')}`);
  using syncFile = dmaBuf.exportSyncFile('write');
  const info = syncFile.info();
  say(`   exported sync_file: ${info.fences.length} fence(s), ${info.fences.map((f) => `${f.driver}/${f.timeline} ${f.status}`).join(', ')}`);
  const idle = dmaBuf.waitIdle({ access: 'write', timeoutMs: 5000 });
  setTimeout(() => {
    fence.signal();
    say(`   VGEM_FENCE_SIGNAL fence ${fence.id} (50 ms later)`);
  }, 50);
  say(`   awaited waitIdle (libuv poll, no thread): ${await idle ? 'idle' : 'timed out'}`);
  say(`   sync_file now: ${syncFile.info().status}`);
}

async function tour(device: Device): Promise<void> {
  if (device instanceof DrmDevice) {
    const v = device.version;
    say(`Device: ${device.path} (${device.nodeType} node), driver ${v.name} ${v.major}.${v.minor}.${v.patchlevel}: ${v.desc}`);
  } else {
    say('Device: the software device (memfd-backed): this machine has no usable DRM node.');
  }

  say('\n1. Create a 16 KiB buffer');
  using buffer = device.createBuffer(16 * 1024);
  say(`   handle ${buffer.handle}, size ${buffer.size} bytes`);

  say('\n2. Map it and write a pattern into each 4 KiB page');
  using mapping = buffer.map();
  for (let page = 0; page < 4; page++) mapping.bytes.fill(0x41 + page, page * 4096, page * 4096 + 4096);
  say(`   first bytes of each page: ${[0, 1, 2, 3].map((p) => String.fromCharCode(mapping.bytes[p * 4096] ?? 0)).join(' ')}`);

  say('\n3. Share it as an fd, map that, and read the pattern back');
  using dmaBuf = buffer.exportDmaBuf();
  say(`   exported ${dmaBuf.kind} fd ${dmaBuf.fd}, ${dmaBuf.size} bytes`);
  using shared = dmaBuf.map();
  say(`   bytes 4094..4097 through the fd: ${hex(shared.bytes.subarray(4094, 4098))}`);
  shared.bytes[0] = 0x7a;
  say(`   wrote 'z' through the fd; the first mapping reads '${String.fromCharCode(mapping.bytes[0] ?? 0)}'`);
  using imported = device.importDmaBuf(dmaBuf);
  say(`   imported the fd again: handle ${imported.handle}${imported.handle === buffer.handle ? ' (the same object, the same handle)' : ''}`);
  try {
    using page2 = dmaBuf.map({ offset: 8192, length: 4096 });
    say(`   sub-range map at 8 KiB starts with '${String.fromCharCode(page2.bytes[0] ?? 0)}' (expected 'C')`);
  } catch (error) {
    say(`   sub-range map at 8 KiB refused: ${(error as Error).message}`);
  }

  if (device instanceof DrmDevice && buffer instanceof GemBuffer && device.driver === 'vgem') {
    await fenceTour(buffer, dmaBuf);
  } else {
    say('\n4. Fences: this device has no fence ioctl to demonstrate (vgem has one).');
  }

  say('\n5. Close: mappings are detached first, so JS never reads unmapped memory');
  const view = mapping.bytes;
  buffer.close();
  say(`   after buffer.close(): a view of the old mapping has byteLength ${view.byteLength}`);
}

/** Runs `drm-gpuvm demo`. */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, async ({ values }) => {
    const backend = values.backend === undefined ? undefined : oneOf('backend', values.backend, ['window'] as const);
    if (backend === 'window') {
      const options = {
        seed: wholeNumber('seed', values.seed, { min: 0, max: 0xffffffff, fallback: 1 }),
        requests: wholeNumber('requests', values.requests, { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 200 }),
      };
      return runWindowDemoCli(options, values.device, values.json === true);
    }
    const windowOption = WINDOW_ONLY.find((name) => values[name] !== undefined);
    if (windowOption !== undefined) throw new UsageError(`--${windowOption} applies only to --backend window`);
    using device = values.device !== undefined ? openDevice(values.device) : openDevice();
    await tour(device);
    return 0;
  });
}
