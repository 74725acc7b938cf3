// SPDX-License-Identifier: MIT
// `drm-gpuvm demo --backend window`: a seeded random sequence of map/remap/unmap requests (sparse ones and
// ones that repeat a BO at a consistent offset, so the kernel's keep hint comes up) through a Vm whose
// backend is the VA window, on the default device. BOs are filled with a pattern that names the BO and
// the page; after every request every page of the window is read through the backend and compared with
// a page model kept here, independently of GPUVM: mapped pages must show the expected BO page, sparse
// pages zeros, and unmapped pages must be refused.
import type { Device } from '../drm/device.js';
import { openDevice } from '../drm/open.js';
import { pageSize } from '../drm/page-size.js';
import { VaWindowBackend } from '../backends/va-window-backend.js';
import { VaWindowError } from '../backends/va-window-error.js';
import { mulberry32 } from '../mulberry32.js';
import { Bo } from '../vm/bo.js';
import { Vm } from '../vm/vm.js';
import { writeJson } from './json-output.js';

/** Options of {@link runWindowDemo}. */
export interface WindowDemoOptions {
  /** PRNG seed. */
  seed: number;
  /** Requests to issue. */
  requests: number;
  /** Pages of GPU VA in the window. */
  pages: number;
  /** How many BOs. */
  bos: number;
  /** Pages per BO. */
  boPages: number;
}

/** What {@link runWindowDemo} saw. */
export interface WindowDemoResult {
  /** Requests issued (refused ones included). */
  requests: number;
  /** Requests the backend refused because this device cannot map them correctly. */
  refused: number;
  /** Page reads checked. */
  pagesChecked: number;
  /** Pages that read differently from the model (or were not refused while unmapped). */
  mismatches: number;
  /** How the backend gets BO memory on this device. */
  memory: string;
}

/** The first 16 bytes of page `page` of BO `bo`; the rest of the page is `0x40 + bo`. */
export function pagePattern(bo: number, page: number, pageSize: number): Uint8Array {
  const bytes = new Uint8Array(pageSize).fill(0x40 + bo);
  const head = new DataView(bytes.buffer);
  head.setUint32(0, 0x57494e44); // 'WIND'
  head.setUint32(4, bo);
  head.setUint32(8, page);
  head.setUint32(12, ~(bo * 65536 + page) >>> 0);
  return bytes;
}

/** Runs the sequence on `device` and checks every page after every request. */
export async function runWindowDemo(device: Device, options: WindowDemoOptions): Promise<WindowDemoResult> {
  const pageBytes = pageSize();
  const page = BigInt(pageBytes);
  const random = mulberry32(options.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  using backend = new VaWindowBackend({ device, size: BigInt(options.pages) * page });
  const vm = new Vm({ policy: 'resv', start: 0n, range: BigInt(options.pages) * page, backend });
  const bos: Bo[] = [];
  for (let b = 0; b < options.bos; b++) {
    const bo = new Bo(BigInt(options.boPages) * page, { name: `bo${b}` });
    backend.allocate(bo.gem);
    using mapping = backend.mapMemory(bo.gem);
    for (let p = 0; p < options.boPages; p++) mapping.bytes.set(pagePattern(b, p, pageBytes), p * pageBytes);
    bos.push(bo);
  }
  // The model: per page, null (unmapped), 'sparse', or [bo, page of the bo].
  const model = new Array<null | 'sparse' | [number, number]>(options.pages).fill(null);
  const zero = new Uint8Array(pageBytes);
  const result: WindowDemoResult = { requests: 0, refused: 0, pagesChecked: 0, mismatches: 0, memory: backend.plan.kind };
  for (let r = 0; r < options.requests; r++) {
    const first = pick(options.pages);
    const count = 1 + pick(Math.min(options.boPages, options.pages - first));
    const choice = random();
    let apply: () => void;
    try {
      if (choice < 0.3) {
        await vm.unmap(BigInt(first) * page, BigInt(count) * page);
        apply = () => model.fill(null, first, first + count);
      } else if (choice < 0.4) {
        await vm.map({ addr: BigInt(first) * page, range: BigInt(count) * page });
        apply = () => model.fill('sparse', first, first + count);
      } else {
        // Half of the BO maps reuse what the first page shows, at a consistent offset: merges with keep.
        const at = model[first];
        const consistent = choice < 0.6 && Array.isArray(at) && at[1] + count <= options.boPages;
        const bo = consistent ? at[0] : pick(options.bos);
        // Where only BO offset 0 maps correctly, fresh maps start there; consistent ones may still be refused.
        const fresh = backend.plan.anyOffset ? pick(options.boPages - count + 1) : 0;
        const boPage = consistent ? at[1] : fresh;
        await vm.map({ addr: BigInt(first) * page, range: BigInt(count) * page, bo: bos[bo]!, offset: BigInt(boPage) * page });
        apply = () => { for (let i = 0; i < count; i++) model[first + i] = [bo, boPage + i]; };
      }
      apply();
    } catch (error) {
      if (!(error instanceof VaWindowError) || error.code !== 'ERR_VA_WINDOW_UNSAFE_MAPPING') throw error;
      result.refused++;
    }
    result.requests++;
    for (let p = 0; p < options.pages; p++) {
      const expected = model[p]!;
      result.pagesChecked++;
      let seen: Uint8Array | null;
      try {
        seen = backend.read(BigInt(p) * page, page);
      } catch (error) {
        if (!(error instanceof VaWindowError) || error.code !== 'ERR_VA_WINDOW_UNMAPPED') throw error;
        seen = null;
      }
      const want = expected === null ? null : expected === 'sparse' ? zero : pagePattern(expected[0], expected[1], pageBytes);
      const same = want === null || seen === null ? want === seen : Buffer.compare(want, seen) === 0;
      if (!same) result.mismatches++;
    }
  }
  await vm.unmap(0n, BigInt(options.pages) * page);
  vm.gpuvm.deferredCleanup();
  vm.close();
  return result;
}

/** Runs `drm-gpuvm demo --backend window` on the device at `path` (the default device when undefined). */
export async function runWindowDemoCli(options: Pick<WindowDemoOptions, 'seed' | 'requests'>, path: string | undefined, json: boolean): Promise<number> {
  const full: WindowDemoOptions = { pages: 64, bos: 4, boPages: 16, ...options };
  using device = path !== undefined ? openDevice(path) : openDevice();
  const result = await runWindowDemo(device, full);
  if (json) {
    writeJson({ ok: result.mismatches === 0, device: device.path, driver: device.driver, seed: full.seed, ...result });
    return result.mismatches > 0 ? 1 : 0;
  }
  process.stdout.write(`device: ${device.path} (${device.driver}), BO memory: ${result.memory}, seed ${full.seed}, ` +
    `${result.refused} request(s) refused as unsafe on this device\n`);
  process.stdout.write(`window: ${result.requests} requests, ${result.pagesChecked} pages checked, ${result.mismatches} mismatches\n`);
  return result.mismatches > 0 ? 1 : 0;
}
