// SPDX-License-Identifier: MIT
// Where the VA map's input comes from: a live GpuVm, or a dump as `drm-gpuvm trace` prints it
// (`va <addr> <range> <bo>|sparse <offset>` lines, docs/trace-format.md).
import type { GemObject } from '../gpuvm/gem.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import { U64_MAX } from '../u64.js';
import type { VaMapInput, VaMapMapping } from './va-map-svg.js';

/** The picture input for `vm` as it is now: its mappings, and its reserved node apart. */
export function vaMapInputFromGpuVm(vm: GpuVm, title?: string): VaMapInput {
  const mappings: VaMapMapping[] = [];
  // A GEM without a name still needs its own legend entry: number them in order of first appearance.
  const unnamed = new Map<GemObject, string>();
  const nameOf = (obj: GemObject) => {
    if (obj.name !== '') return obj.name;
    let name = unnamed.get(obj);
    if (name === undefined) unnamed.set(obj, (name = `unnamed#${unnamed.size + 1}`));
    return name;
  };
  for (const va of vm.vas()) {
    if (va === vm.kernelAllocNode) continue;
    // A sparse VA's offset means nothing without a GEM (the trace prints 0x0 for it too).
    if (va.obj === null) mappings.push({ addr: va.addr, range: va.range, bo: null, offset: 0n });
    else mappings.push({ addr: va.addr, range: va.range, bo: nameOf(va.obj), offset: va.offset });
  }
  const node = vm.kernelAllocNode;
  return {
    start: vm.start, range: vm.range, mappings,
    reserved: node === null ? undefined : { addr: node.addr, range: node.range },
    ...(title !== undefined ? { title } : {}),
  };
}

/** A dump that cannot be read; `line` is 1-based. */
export class VaDumpSyntaxError extends Error {
  /** Node-style error code. */
  readonly code = 'ERR_VA_DUMP_SYNTAX';
  /** The offending line. */
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'VaDumpSyntaxError';
    this.line = line;
  }
}

/** True when `text` holds a dump (`va` lines) rather than a trace, which never has them. */
export function isVaDump(text: string): boolean {
  return /^[ \t]*va[ \t]/m.test(text);
}

// Lines of `drm-gpuvm trace` output that a dump may come with; they say nothing about the final state.
const REPLAY_OUTPUT = new Set(['map', 'unmap', 'remap', 'error', 'bo']);
const NUMBER = /^0x[0-9a-fA-F]+$/;
const NAME = /^[A-Za-z0-9_]+$/;

/** True when one line (without its newline) is a `va` line, which only a dump has. */
export function isVaDumpLine(line: string): boolean {
  return /^[ \t]*va[ \t]/.test(line);
}

/**
 * Reads a dump one line at a time (see {@link parseVaDump}), keeping only the block of `va` lines being
 * read, so a long `drm-gpuvm trace` output is read in memory proportional to one dump.
 */
export class VaDumpReader {
  #start = 0n;
  #range = U64_MAX;
  #reserved: { addr: bigint; range: bigint } | undefined;
  #vmLine = 0;
  #block: Array<VaMapMapping & { line: number }> = [];
  #blockOpen = false;
  #line = 0;

  /** Reads the next line (without its newline); throws VaDumpSyntaxError naming it. */
  next(raw: string): void {
    const line = ++this.#line;
    const hash = raw.indexOf('#');
    const words = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    const verb = words[0]!;
    if (verb === '') return;
    const num = (at: number, what: string) => {
      const word = words[at];
      if (word === undefined || !NUMBER.test(word) || BigInt(word) > U64_MAX) {
        throw new VaDumpSyntaxError(line, `${what}: expected a u64 in hexadecimal like 0x1000, got ${word === undefined ? 'nothing' : `'${word}'`}`);
      }
      return BigInt(word);
    };
    if (verb === 'va') {
      if (words.length !== 5) throw new VaDumpSyntaxError(line, 'usage: va <addr> <range> <bo>|sparse <offset>');
      if (!this.#blockOpen) this.#block = [];
      this.#blockOpen = true;
      const bo = words[3]!;
      if (!NAME.test(bo)) throw new VaDumpSyntaxError(line, `BO name: expected [A-Za-z0-9_]+ or sparse, got '${bo}'`);
      this.#block.push({ line, addr: num(1, 'addr'), range: num(2, 'range'), bo: bo === 'sparse' ? null : bo, offset: num(4, 'offset') });
    } else if (verb === 'end') {
      this.#blockOpen = false;
    } else if (verb === 'vm') {
      if (this.#vmLine !== 0) throw new VaDumpSyntaxError(line, 'a second vm line');
      if (words.length !== 3 && !(words.length === 6 && words[3] === 'reserve')) {
        throw new VaDumpSyntaxError(line, 'usage: vm <start> <range> [reserve <rstart> <rrange>]');
      }
      this.#vmLine = line;
      this.#start = num(1, 'start');
      this.#range = num(2, 'range');
      if (words.length === 6) this.#reserved = { addr: num(4, 'reserve start'), range: num(5, 'reserve range') };
    } else if (!REPLAY_OUTPUT.has(verb)) {
      throw new VaDumpSyntaxError(line, `unknown line '${verb}' (a dump has va, end and an optional vm line)`);
    }
  }

  /** Checks the last block against the VA space and returns the picture input; throws VaDumpSyntaxError. */
  end(): VaMapInput {
    const start = this.#start;
    const range = this.#range;
    const vmLine = this.#vmLine;
    let reserved = this.#reserved;
    const end = start + range;
    if (vmLine !== 0) {
      if (range === 0n || end > U64_MAX) throw new VaDumpSyntaxError(vmLine, 'vm: the range must be non-zero and start + range must not pass 2^64-1');
      if (reserved !== undefined && reserved.range !== 0n && (reserved.addr < start || reserved.addr + reserved.range > end)) {
        throw new VaDumpSyntaxError(vmLine, 'vm: the reserved node is not inside the VA space');
      }
      if (reserved?.range === 0n) reserved = undefined;
    }
    let previous: (VaMapMapping & { line: number }) | undefined;
    for (const va of this.#block) {
      if (va.range === 0n || va.addr < start || va.addr + va.range > end) {
        throw new VaDumpSyntaxError(va.line, 'the mapping is empty or outside the VA space');
      }
      if (previous !== undefined && va.addr < previous.addr + previous.range) {
        throw new VaDumpSyntaxError(va.line, `the mapping overlaps or precedes the one on line ${previous.line}; a dump lists mappings in address order`);
      }
      if (reserved !== undefined && va.addr < reserved.addr + reserved.range && reserved.addr < va.addr + va.range) {
        throw new VaDumpSyntaxError(va.line, 'the mapping overlaps the reserved node');
      }
      previous = va;
    }
    return {
      start, range, reserved,
      mappings: this.#block.map(({ addr, range: r, bo, offset }) => ({ addr, range: r, bo, offset })),
      title: vmLine !== 0 ? 'VA space (dump)' : 'dump over the whole u64 space (no vm line)',
    };
  }
}

/**
 * Reads a dump: the `va` lines of its last block (a dump ends with `end`), so the whole output of
 * `drm-gpuvm trace` can be piped in and its final dump is drawn. An optional `vm <start> <range>
 * [reserve <rstart> <rrange>]` line gives the VA space; without it the space is [0, 2^64-1).
 * Throws {@link VaDumpSyntaxError} naming the line.
 */
export function parseVaDump(text: string): VaMapInput {
  const reader = new VaDumpReader();
  for (const line of text.split('\n')) reader.next(line);
  return reader.end();
}
