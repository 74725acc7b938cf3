// SPDX-License-Identifier: MIT
// The VA window backend: an emulated GPU VA space in the process's own address space. A reserved,
// inaccessible CPU range (lib/drm/va-window.ts) stands for the GPU VA range [start, start + size); every
// mapping of the VM with a BO is that BO's memory mmapped at its offset, at `address - start` in the
// window, so what a GPU would read at an address can be read and checked. Sparse mappings have no memory:
// reads give zeros and writes are dropped, as a driver's NULL/sparse binding does (xe's NULL binds,
// Vulkan's residencyNonResidentStrict). Unmapped addresses are holes: read/write refuse them with
// ERR_VA_WINDOW_UNMAPPED before touching any byte, and the window itself keeps them PROT_NONE.
//
// A commit is atomic: every op is checked before the window changes, then the window steps run with an
// undo list; if one fails (an mmap error), the steps done are undone in reverse order and the window is
// as before. Remaps only unmap their hole: the pieces left on either side keep their memory, exactly what
// a driver keeps in its page tables.
import type { Buffer, Device } from '../drm/device.js';
import type { Mapping } from '../drm/mapping.js';
import { pageSize } from '../drm/page-size.js';
import { VaWindow, type WindowMapOptions, type WindowRange, type WindowSource } from '../drm/va-window.js';
import type { GemObject } from '../gpuvm/gem.js';
import type { GpuVa } from '../gpuvm/gpuva.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import { type GpuVaOps, type OpMap, remapToUnmapRange } from '../gpuvm/ops.js';
import { assertOptionsObject, invalidArgType, outOfRange } from '../arg-errors.js';
import { toU64, type U64Like } from '../u64.js';
import { type GpuVmBackend, vaAccessRange } from './backend.js';
import { VaWindowError } from './va-window-error.js';
import { allocateWindowMemory, planWindowMemory, type WindowMemory, type WindowMemoryPlan } from './va-window-memory.js';

/** The window operations the backend uses; a VaWindow, or a wrapper of one (fault-injection tests). */
export interface WindowOps {
  /** Maps `source` at `offset` in the window (see VaWindow.map). */
  map(offset: U64Like, source: WindowSource, options?: WindowMapOptions): void;
  /** Makes `[offset, offset+length)` a hole again. */
  unmap(offset: U64Like, length: U64Like): void;
  /** The bytes of `[offset, offset+length)`, live (reads and writes go to the mapped memory). */
  view(offset: U64Like, length: U64Like): ArrayBuffer;
  /** The ranges mapped now, in address order. */
  mappedRanges(): WindowRange[];
}

/** How to create a {@link VaWindowBackend}. */
export interface VaWindowBackendOptions {
  /** The device BO memory comes from (software device, or a DRM node such as vgem). */
  device: Device;
  /** First GPU address the window stands for (page-aligned). Default 0. */
  start?: U64Like;
  /** Bytes of GPU VA the window stands for: a multiple of the page size, at most 2^46. */
  size: U64Like;
  /** Use this window instead of reserving one; the caller keeps ownership of it. */
  window?: WindowOps;
  /** The device's probed plan (planWindowMemory), when the caller has it: several backends of one device share it. */
  plan?: WindowMemoryPlan;
  /**
   * Memory the caller owns for GEMs this backend did not allocate: BOs shared by several VMs of one device
   * get their memory once, and each VM's window maps it. The backend never frees what this returns.
   */
  memoryOf?: (gem: GemObject) => WindowMemory | undefined;
}

// One change of the window, and how to take it back. A map step puts `length` bytes of `memory` from
// `sourceOffset` at window offset `at`; undone by a hole there. An unmap step makes a hole of `length`
// bytes at `at` in the mapping of `va`; undone by mapping all of `va` again (for a remap hole this also
// replaces its pieces, which map the same pages), so no mapping starts mid-BO on devices that only map
// from offset 0. Plain records run by the backend's methods: a commit makes no closures.
interface Step {
  readonly va: GpuVa | null;
  readonly memory: WindowMemory;
  readonly at: bigint;
  readonly length: bigint;
  readonly sourceOffset: bigint;
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** A GpuVmBackend whose device is a CPU address window: binds are mmaps, and reads see the BO's pages. */
export class VaWindowBackend implements GpuVmBackend, Disposable {
  readonly name = 'va-window';
  /** The device BO memory comes from. */
  readonly device: Device;
  /** First GPU address covered. */
  readonly start: bigint;
  /** Bytes of GPU VA covered. */
  readonly size: bigint;
  /** How BO memory is made on this device, and whether any BO offset may start a mapping. */
  readonly plan: WindowMemoryPlan;
  readonly #window: WindowOps;
  readonly #ownWindow: VaWindow | null;
  readonly #page: bigint;
  readonly #memory = new Map<GemObject, WindowMemory>();
  readonly #memoryOf: ((gem: GemObject) => WindowMemory | undefined) | undefined;
  // Views of committed VAs; a VA keeps its memory for as long as it is in the tree.
  readonly #views = new WeakMap<GpuVa, Uint8Array>();
  #vm: GpuVm | null = null;
  #broken: unknown = null;
  #closed = false;
  #commits = 0;

  /** Probes the device (see planWindowMemory) and reserves the window. */
  constructor(options: VaWindowBackendOptions) {
    assertOptionsObject(options);
    if (typeof options.device !== 'object' || options.device === null || typeof options.device.createBuffer !== 'function') {
      throw invalidArgType('options.device', 'an object with createBuffer (a DrmDevice or SoftwareDevice)', options.device);
    }
    this.#page = BigInt(pageSize());
    this.start = toU64(options.start ?? 0n, 'options.start');
    this.size = toU64(options.size, 'options.size');
    if (this.start % this.#page !== 0n) throw outOfRange('options.start', `a multiple of the page size (${this.#page})`, hex(this.start));
    if (this.size === 0n || this.size % this.#page !== 0n || this.size > 1n << 46n) {
      throw outOfRange('options.size', `a non-zero multiple of the page size (${this.#page}), at most 2^46`, hex(this.size));
    }
    if (this.start + this.size > 1n << 64n) throw outOfRange('options.size', 'a size that keeps start + size <= 2^64', hex(this.size));
    if (options.memoryOf !== undefined && typeof options.memoryOf !== 'function') throw invalidArgType('options.memoryOf', 'function', options.memoryOf);
    this.device = options.device;
    this.plan = options.plan ?? planWindowMemory(options.device);
    this.#memoryOf = options.memoryOf;
    if (options.window !== undefined) {
      this.#window = options.window;
      this.#ownWindow = null;
    } else {
      this.#ownWindow = VaWindow.reserve(this.size);
      this.#window = this.#ownWindow;
    }
  }

  /** Requests committed so far. */
  get commits(): number {
    return this.#commits;
  }

  /** The GpuVm this backend serves (bound by its first successful commit), or null. */
  get vm(): GpuVm | null {
    return this.#vm;
  }

  /** The window's mapped ranges as GPU addresses, in address order (for checks and dumps). */
  mappedRanges(): { addr: bigint; end: bigint }[] {
    this.#checkUsable();
    return this.#window.mappedRanges().map((r) => ({ addr: r.offset + this.start, end: r.end + this.start }));
  }

  /**
   * Gives `gem` zeroed memory on the device (its size rounded up to pages) and returns the device buffer,
   * which callers may map to fill or check. On vgem with udmabuf it is a real GEM object (fences attach).
   */
  allocate(gem: GemObject): Buffer {
    this.#checkUsable();
    if (this.#memory.has(gem)) throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${gem.name}' already has memory in this backend`);
    const memory = allocateWindowMemory(this.device, this.plan, gem.size);
    this.#memory.set(gem, memory);
    return memory.buffer;
  }

  /**
   * Maps all of `gem`'s memory for the CPU (to fill or check it) the way the window maps it: through the
   * memfd or the dma-buf from offset 0, which works on every device kind, imported udmabuf BOs included.
   */
  mapMemory(gem: GemObject): Mapping {
    this.#checkUsable();
    const memory = this.#lookup(gem);
    if (memory === undefined) throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${gem.name}' has no memory in this backend`);
    return memory.source.map();
  }

  /** The device buffer of `gem`, or null if it has none here. */
  bufferOf(gem: GemObject): Buffer | null {
    return this.#lookup(gem)?.buffer ?? null;
  }

  /** Frees `gem`'s memory; refused while a mapping of the VM still uses it. */
  free(gem: GemObject): void {
    this.#checkUsable();
    const memory = this.#memory.get(gem);
    if (memory === undefined) throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${gem.name}' has no memory in this backend`);
    const vmBo = this.#vm === null ? undefined : gem.gpuvaList.get(this.#vm);
    if (vmBo !== undefined && vmBo.vaCount > 0) {
      throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${gem.name}' is still mapped by ${vmBo.vaCount} mapping(s); unmap them first`);
    }
    this.#memory.delete(gem);
    memory.close();
  }

  /** Synchronous: the window matches the ops (or is as it was, and this throws) when it returns. */
  commit(vm: GpuVm, ops: GpuVaOps): void {
    this.#checkUsable();
    if (this.#vm !== null && this.#vm !== vm) {
      throw new VaWindowError('ERR_VA_WINDOW_WRONG_VM', `this window serves VM '${this.#vm.name}', not '${vm.name}'`);
    }
    const steps = this.#plan(ops);
    let done = 0;
    try {
      for (; done < steps.length; done++) this.#run(steps[done]!);
    } catch (error) {
      this.#rollBack(steps, done, error);
      throw error;
    }
    this.#vm = vm;
    this.#commits++;
  }

  /**
   * Reads `length` bytes at GPU address `addr` as the GPU would: BO pages where BOs are mapped, zeros where
   * the mapping is sparse. Any unmapped byte in the range refuses the whole read (ERR_VA_WINDOW_UNMAPPED).
   */
  read(addr: U64Like, length: U64Like): Uint8Array {
    const { start, end } = this.#accessRange(addr, length);
    const out = new Uint8Array(Number(end - start));
    for (const va of this.#covering(start, end)) {
      if (va.obj === null) continue;
      const from = start > va.addr ? start : va.addr;
      const to = end < va.end ? end : va.end;
      out.set(this.#viewOf(va).subarray(Number(from - va.addr), Number(to - va.addr)), Number(from - start));
    }
    return out;
  }

  /**
   * Writes `bytes` at GPU address `addr`: into BO memory where BOs are mapped; bytes aimed at sparse
   * mappings are dropped. Any unmapped byte in the range refuses the whole write (ERR_VA_WINDOW_UNMAPPED).
   */
  write(addr: U64Like, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw invalidArgType('bytes', 'Uint8Array', bytes);
    const { start, end } = this.#accessRange(addr, BigInt(bytes.byteLength));
    for (const va of this.#covering(start, end)) {
      if (va.obj === null) continue;
      const from = start > va.addr ? start : va.addr;
      const to = end < va.end ? end : va.end;
      this.#viewOf(va).set(bytes.subarray(Number(from - start), Number(to - start)), Number(from - va.addr));
    }
  }

  /** Frees every BO's memory and gives the reserved window back (a window passed in stays the caller's). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ownWindow?.close();
    for (const memory of this.#memory.values()) memory.close();
    this.#memory.clear();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // Memory this backend allocated, else the caller's (options.memoryOf).
  #lookup(gem: GemObject): WindowMemory | undefined {
    return this.#memory.get(gem) ?? this.#memoryOf?.(gem);
  }

  #checkUsable(): void {
    if (this.#closed) throw new VaWindowError('ERR_VA_WINDOW_CLOSED', 'the VA window backend is closed');
    if (this.#broken !== null) {
      throw new VaWindowError('ERR_VA_WINDOW_BROKEN', 'a failed commit could not be undone: the window no longer matches the tree', { cause: this.#broken });
    }
  }

  // Checks every op against the window and the BOs' memory, and turns it into window steps. Throws before
  // anything changed. Sparse mappings and prefetches need no step.
  #plan(ops: GpuVaOps): Step[] {
    const steps: Step[] = [];
    for (const op of ops) {
      if (op.type === 'map') {
        if (op.obj !== null) steps.push({ va: null, memory: this.#checkPiece(op, true), at: op.addr - this.start, length: op.range, sourceOffset: op.offset });
      } else if (op.type === 'unmap') {
        const va = op.va;
        if (va.obj !== null) steps.push(this.#unmapStep(va, va.addr, va.range));
      } else if (op.type === 'remap') {
        const old = op.unmap.va;
        if (old.obj === null) continue;
        // The pieces keep their pages; only a piece that would start a new mapping must pass the offset rule.
        if (op.prev !== null) this.#checkPiece(op.prev, false);
        if (op.next !== null) this.#checkPiece(op.next, true);
        const hole = remapToUnmapRange(op);
        steps.push(this.#unmapStep(old, hole.start, hole.range));
      }
    }
    return steps;
  }

  // A map (or remap piece) with memory: page-aligned, inside the window, inside its BO's memory, and at an
  // offset the device maps correctly when it starts a mapping of its own.
  #checkPiece(op: OpMap, startsMapping: boolean): WindowMemory {
    const obj = op.obj!;
    const memory = this.#lookup(obj);
    if (memory === undefined) {
      throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${obj.name}' has no memory in this backend (call allocate first)`, { address: op.addr });
    }
    if (op.addr % this.#page !== 0n || op.range % this.#page !== 0n || op.offset % this.#page !== 0n) {
      throw new VaWindowError('ERR_VA_WINDOW_ALIGNMENT',
        `mapping [${hex(op.addr)}, +${hex(op.range)}) of '${obj.name}' at offset ${hex(op.offset)} is not page-aligned`, { address: op.addr });
    }
    if (op.addr < this.start || op.addr + op.range > this.start + this.size) {
      throw new VaWindowError('ERR_VA_WINDOW_RANGE',
        `mapping [${hex(op.addr)}, +${hex(op.range)}) leaves the window [${hex(this.start)}, +${hex(this.size)})`, { address: op.addr });
    }
    if (op.offset + op.range > memory.buffer.size) {
      throw new VaWindowError('ERR_VA_WINDOW_RANGE',
        `mapping of '${obj.name}' at offset ${hex(op.offset)} + ${hex(op.range)} runs past its ${memory.buffer.size} bytes`, { address: op.addr });
    }
    const anyOffset = memory.offsetRule === undefined ? this.plan.anyOffset : memory.offsetRule === null;
    if (startsMapping && op.offset !== 0n && !anyOffset) {
      throw new VaWindowError('ERR_VA_WINDOW_UNSAFE_MAPPING',
        `refused: a mapping of '${obj.name}' would start at BO offset ${hex(op.offset)} (address ${hex(op.addr)}); ${memory.offsetRule ?? this.plan.reason}`, { address: op.addr });
    }
    return memory;
  }

  // Makes a hole of [addr, addr + range) in `va`'s mapping.
  #unmapStep(va: GpuVa, addr: bigint, range: bigint): Step {
    const memory = this.#lookup(va.obj!);
    if (memory === undefined) {
      throw new VaWindowError('ERR_VA_WINDOW_NO_MEMORY', `GEM '${va.obj!.name}' has no memory in this backend`, { address: va.addr });
    }
    return { va, memory, at: addr - this.start, length: range, sourceOffset: 0n };
  }

  #run(step: Step): void {
    if (step.va === null) this.#window.map(step.at, step.memory.source, { sourceOffset: step.sourceOffset, length: step.length });
    else this.#window.unmap(step.at, step.length);
  }

  #undo(step: Step): void {
    const va = step.va;
    if (va === null) {
      this.#window.unmap(step.at, step.length);
      return;
    }
    const at = va.addr - this.start;
    if (step.length !== va.range) this.#window.unmap(at, va.range);
    this.#window.map(at, step.memory.source, { sourceOffset: va.offset, length: va.range });
  }

  // Undoes the first `done` steps, last first.
  #rollBack(steps: Step[], done: number, error: unknown): void {
    for (let i = done - 1; i >= 0; i--) {
      try {
        this.#undo(steps[i]!);
      } catch (undoError) {
        this.#broken = new AggregateError([error, undoError], 'commit and rollback both failed');
        throw new VaWindowError('ERR_VA_WINDOW_BROKEN', `a commit failed (${(error as Error).message}) and undoing it failed too (${(undoError as Error).message})`, { cause: this.#broken });
      }
    }
  }

  #accessRange(addr: U64Like, length: U64Like): { start: bigint; end: bigint } {
    this.#checkUsable();
    return vaAccessRange(addr, length);
  }

  // The VAs covering [start, end) end to end, or ERR_VA_WINDOW_UNMAPPED at the first byte none covers.
  #covering(start: bigint, end: bigint): GpuVa[] {
    const vm = this.#vm;
    const vas: GpuVa[] = [];
    let covered = start;
    if (vm !== null) {
      for (const va of vm.vasInRange(start, end)) {
        if (va.addr > covered || va === vm.kernelAllocNode) break;
        vas.push(va);
        covered = va.end;
      }
    }
    if (covered < end) {
      const reserved = vm !== null && vm.kernelAllocNode !== null && vm.kernelAllocNode.addr <= covered && covered < vm.kernelAllocNode.end;
      throw new VaWindowError('ERR_VA_WINDOW_UNMAPPED', `GPU address ${hex(covered)} is ${reserved ? 'in the kernel-reserved node' : 'not mapped'}`, { address: covered });
    }
    return vas;
  }

  #viewOf(va: GpuVa): Uint8Array {
    let view = this.#views.get(va);
    // A view is detached when its range was unmapped (a rolled-back commit puts the memory back).
    if (view === undefined || view.byteLength === 0) {
      view = new Uint8Array(this.#window.view(va.addr - this.start, va.range));
      this.#views.set(va, view);
    }
    return view;
  }
}
