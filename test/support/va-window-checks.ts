// SPDX-License-Identifier: MIT
// Shared checks of the VA window backend, run on the software device (test/native) and on vgem inside the
// VM (test/guest): a page model written here, random request sequences, and fault injection that fails the
// k-th window mmap of a request for every k.
import { expect } from 'vitest';
import type { Device } from '../../lib/drm/device.js';
import { VaWindow, type WindowMapOptions, type WindowSource } from '../../lib/drm/va-window.js';
import { VaWindowBackend, type WindowOps } from '../../lib/backends/va-window-backend.js';
import { VaWindowError } from '../../lib/backends/va-window-error.js';
import { mulberry32 } from '../../lib/mulberry32.js';
import { native } from '../../lib/native.js';
import type { U64Like } from '../../lib/u64.js';
import { Bo } from '../../lib/vm/bo.js';
import type { VmBoPolicy } from '../../lib/vm/policy.js';
import { Vm } from '../../lib/vm/vm.js';

export const PAGE = native().pageSize;
export const P = BigInt(PAGE);

/** A page of BO `bo` page `page`: every 4-byte word holds (bo << 20 | page << 8 | 0x5a) ^ word index. */
export function expectedPage(bo: number, page: number): Uint8Array {
  const words = new Uint32Array(PAGE / 4);
  for (let i = 0; i < words.length; i++) words[i] = ((bo << 20) | (page << 8) | 0x5a) ^ i;
  return new Uint8Array(words.buffer);
}

/** A real window whose `failAt`-th mutating call (map or unmap, counted from 1) throws instead of running. */
export class FailingWindow implements WindowOps {
  calls = 0;
  failAt = 0;
  constructor(readonly inner: VaWindow) {}

  #step(): void {
    this.calls++;
    if (this.calls === this.failAt) throw Object.assign(new Error(`injected mmap failure (call ${this.calls})`), { code: 'EINJECTED' });
  }

  map(offset: U64Like, source: WindowSource, options?: WindowMapOptions): void {
    this.#step();
    this.inner.map(offset, source, options);
  }

  unmap(offset: U64Like, length: U64Like): void {
    this.#step();
    this.inner.unmap(offset, length);
  }

  view(offset: U64Like, length: U64Like): ArrayBuffer {
    return this.inner.view(offset, length);
  }

  mappedRanges() {
    return this.inner.mappedRanges();
  }
}

/** Per page: null (unmapped), 'sparse', or [bo, bo page]. */
export type PageState = null | 'sparse' | readonly [number, number];

/** A VM over a window of `pages` pages with `bos` BOs of `boPages` pages, each filled with expectedPage. */
export class WindowRig implements Disposable {
  readonly window: FailingWindow;
  readonly backend: VaWindowBackend;
  readonly vm: Vm;
  readonly bos: Bo[] = [];
  readonly model: PageState[];

  constructor(device: Device, readonly pages: number, bos: number, readonly boPages: number, policy: VmBoPolicy = 'resv') {
    this.window = new FailingWindow(VaWindow.reserve(BigInt(pages) * P));
    this.backend = new VaWindowBackend({ device, size: BigInt(pages) * P, window: this.window });
    this.vm = new Vm({ policy, start: 0n, range: BigInt(pages) * P, backend: this.backend });
    for (let b = 0; b < bos; b++) {
      const bo = new Bo(BigInt(boPages) * P, { name: `bo${b}` });
      this.backend.allocate(bo.gem);
      using mapping = this.backend.mapMemory(bo.gem);
      for (let p = 0; p < boPages; p++) mapping.bytes.set(expectedPage(b, p), p * PAGE);
      this.bos.push(bo);
    }
    this.model = new Array<PageState>(pages).fill(null);
  }

  /** Maps pages [first, first+count) to BO `bo` from its page `boPage` (bo null: sparse); updates the model. */
  async map(first: number, count: number, bo: number | null, boPage = 0): Promise<void> {
    await this.vm.map({ addr: BigInt(first) * P, range: BigInt(count) * P, bo: bo === null ? null : this.bos[bo]!, offset: BigInt(boPage) * P });
    for (let i = 0; i < count; i++) this.model[first + i] = bo === null ? 'sparse' : [bo, boPage + i];
  }

  async unmap(first: number, count: number): Promise<void> {
    await this.vm.unmap(BigInt(first) * P, BigInt(count) * P);
    this.model.fill(null, first, first + count);
  }

  /** Every page reads as the model says through the backend, and the window maps exactly the BO pages. */
  checkAllPages(): void {
    const zero = new Uint8Array(PAGE);
    for (let p = 0; p < this.pages; p++) {
      const state = this.model[p]!;
      if (state === null) {
        expect(() => this.backend.read(BigInt(p) * P, P), `page ${p} is unmapped`).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_UNMAPPED', address: BigInt(p) * P }));
        continue;
      }
      const seen = this.backend.read(BigInt(p) * P, P);
      const want = state === 'sparse' ? zero : expectedPage(state[0], state[1]);
      if (Buffer.compare(seen, want) !== 0) expect.fail(`page ${p} should show ${state === 'sparse' ? 'zeros' : `bo${state[0]} page ${state[1]}`}`);
    }
    const mappedPages = new Set<number>();
    for (const r of this.backend.mappedRanges()) for (let a = r.addr; a < r.end; a += P) mappedPages.add(Number(a / P));
    const bosPages = this.model.flatMap((s, p) => (Array.isArray(s) ? [p] : []));
    expect([...mappedPages].sort((a, b) => a - b)).toEqual(bosPages);
  }

  /** Everything fault injection must leave as it was: window, tree, pairs and refcounts, page contents. */
  snapshot(): unknown {
    return {
      window: this.backend.mappedRanges(),
      tree: this.vm.mappings().map((va) => [va.addr, va.range, va.obj?.name ?? null, va.offset]),
      pairs: this.vm.pairs().map((vmBo) => [vmBo.obj.name, vmBo.refcount, vmBo.vaCount, this.vm.refsHeld(vmBo)]),
      pages: this.model.map((_s, p) => {
        try {
          return Buffer.from(this.backend.read(BigInt(p) * P, P)).toString('base64');
        } catch (error) {
          return (error as VaWindowError).code;
        }
      }),
    };
  }

  /**
   * Runs `request` once per k = 1, 2, ... with the k-th window mmap failing, checking each time that the
   * failure left the snapshot unchanged, until a run needs fewer than k mmaps and succeeds. Returns k-1,
   * the number of injected failures.
   */
  async withEveryFault(request: () => Promise<void>): Promise<number> {
    const before = this.snapshot();
    for (let k = 1; ; k++) {
      this.window.failAt = this.window.calls + k;
      try {
        await request();
        this.window.failAt = 0;
        return k - 1;
      } catch (error) {
        this.window.failAt = 0;
        if ((error as { code?: string }).code !== 'EINJECTED') throw error;
        expect(this.snapshot(), `after failing mmap ${k}`).toEqual(before);
      }
    }
  }

  [Symbol.dispose](): void {
    this.backend.close();
    this.window.inner.close();
  }
}

/** Counts of what a random sequence did. */
export interface SequenceCounts {
  requests: number;
  keeps: number;
  remaps: number;
  refused: number;
  injected: number;
}

/**
 * Runs `requests` random map/remap/unmap requests (a third repeat the BO page already shown at a consistent
 * offset, so keep=1 merges happen), checking every page after each; with `faults`, every request is first
 * failed at each of its mmaps. Requests the device refuses as unsafe must change nothing.
 */
export async function randomSequence(rig: WindowRig, seed: number, requests: number, faults: boolean): Promise<SequenceCounts> {
  const random = mulberry32(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const counts: SequenceCounts = { requests: 0, keeps: 0, remaps: 0, refused: 0, injected: 0 };
  for (let r = 0; r < requests; r++) {
    const first = pick(rig.pages);
    const count = 1 + pick(Math.min(rig.boPages, rig.pages - first));
    const choice = random();
    let request: () => Promise<void>;
    let opsOf: () => Iterable<{ type: string; keep?: boolean; unmap?: { keep: boolean } }>;
    if (choice < 0.3) {
      request = () => rig.unmap(first, count);
      opsOf = () => rig.vm.gpuvm.smUnmapOps(BigInt(first) * P, BigInt(count) * P);
    } else {
      const shown = rig.model[first];
      const consistent = choice < 0.65 && shown !== null && shown !== 'sparse' && shown[1] + count <= rig.boPages;
      const bo = choice < 0.38 ? null : consistent ? shown[0] : pick(rig.bos.length);
      // Where only BO offset 0 maps correctly, fresh maps start there (consistent ones still test the refusal).
      const fresh = rig.backend.plan.anyOffset ? pick(rig.boPages - count + 1) : 0;
      const boPage = bo === null ? 0 : consistent ? shown[1] : fresh;
      request = () => rig.map(first, count, bo, boPage);
      opsOf = () => rig.vm.gpuvm.smMapOps({ addr: BigInt(first) * P, range: BigInt(count) * P, obj: bo === null ? null : rig.bos[bo]!.gem, offset: BigInt(boPage) * P });
    }
    for (const op of opsOf()) {
      if (op.type === 'remap') counts.remaps++;
      if (op.keep === true || op.unmap?.keep === true) counts.keeps++;
    }
    const before = rig.snapshot();
    try {
      if (faults) counts.injected += await rig.withEveryFault(request);
      else await request();
    } catch (error) {
      if (!(error instanceof VaWindowError) || error.code !== 'ERR_VA_WINDOW_UNSAFE_MAPPING') throw error;
      counts.refused++;
      expect(rig.snapshot()).toEqual(before);
    }
    counts.requests++;
    rig.checkAllPages();
  }
  return counts;
}
