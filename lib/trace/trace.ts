// SPDX-License-Identifier: MIT
// The GPUVM trace format (docs/trace-format.md): parsing a trace into commands, and replaying
// commands against a GpuVm with output byte for byte as the spec prints it. Text in, text out; the CLI
// (lib/cli/trace.ts) does the reading, writing and timing.
import { U64_MAX } from '../u64.js';
import { GpuVmRequestError } from '../gpuvm/errors.js';
import { GemObject } from '../gpuvm/gem.js';
import type { GpuVa } from '../gpuvm/gpuva.js';
import { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOp, OpMap } from '../gpuvm/ops.js';

/** One parsed trace line. `line` is 1-based. */
export type TraceCommand =
  | { readonly kind: 'vm'; readonly line: number; readonly start: bigint; readonly range: bigint; readonly reserveOffset: bigint; readonly reserveRange: bigint }
  | { readonly kind: 'bo'; readonly line: number; readonly name: string; readonly size: bigint }
  | { readonly kind: 'map'; readonly line: number; readonly addr: bigint; readonly range: bigint; readonly bo: string | null; readonly offset: bigint }
  | { readonly kind: 'unmap'; readonly line: number; readonly addr: bigint; readonly range: bigint }
  | { readonly kind: 'dump'; readonly line: number };

/** A malformed trace: bad syntax, an unknown BO, a missing or second `vm`, an invalid VM. */
export class TraceSyntaxError extends Error {
  /** Node-style error code. */
  readonly code = 'ERR_GPUVM_TRACE_SYNTAX';
  /** 1-based line number of the offending line. */
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceSyntaxError';
    this.line = line;
  }
}

const NUMBER = /^0x[0-9a-fA-F]+$/;
const NAME = /^[A-Za-z0-9_]+$/;

function parseNumber(word: string | undefined, what: string, line: number): bigint {
  if (word === undefined || !NUMBER.test(word)) throw new TraceSyntaxError(line, `${what}: expected a hexadecimal number like 0x1000, got ${word === undefined ? 'nothing' : `'${word}'`}`);
  const value = BigInt(word);
  if (value > U64_MAX) throw new TraceSyntaxError(line, `${what}: ${word} does not fit in 64 bits`);
  return value;
}

function parseName(word: string | undefined, line: number): string {
  if (word === undefined || !NAME.test(word)) throw new TraceSyntaxError(line, `BO name: expected [A-Za-z0-9_]+, got ${word === undefined ? 'nothing' : `'${word}'`}`);
  return word;
}

function arity(words: string[], counts: readonly number[], usage: string, line: number): void {
  if (!counts.includes(words.length)) throw new TraceSyntaxError(line, `usage: ${usage}`);
}

/**
 * Reads a trace one line at a time, so a trace of any length is parsed in constant memory (only the declared
 * BO names are kept), and checks what the spec calls malformed as it goes: syntax, a `vm` that is not first
 * or not alone, a request before `vm`, a BO used before it is declared (or declared twice). Throws
 * TraceSyntaxError naming the line.
 */
export class TraceParser {
  readonly #bos = new Set<string>();
  #haveVm = false;
  #line = 0;

  /** Lines read so far. */
  get lines(): number {
    return this.#line;
  }

  /** Parses the next line (without its newline): its command, or null for a blank or comment-only line. */
  next(text: string): TraceCommand | null {
    const line = ++this.#line;
    const hash = text.indexOf('#');
    const words = (hash >= 0 ? text.slice(0, hash) : text).trim().split(/\s+/);
    const verb = words[0];
    if (verb === '') return null;
    if (verb !== 'vm' && !this.#haveVm) throw new TraceSyntaxError(line, `'${verb}' before 'vm': the first command must create the VM`);
    switch (verb) {
      case 'vm': {
        if (this.#haveVm) throw new TraceSyntaxError(line, 'a second vm: the VM is created exactly once');
        arity(words, [3, 6], 'vm <start> <range> [reserve <rstart> <rrange>]', line);
        if (words.length === 6 && words[3] !== 'reserve') throw new TraceSyntaxError(line, `usage: vm <start> <range> [reserve <rstart> <rrange>]`);
        const command: TraceCommand = {
          kind: 'vm', line,
          start: parseNumber(words[1], 'start', line),
          range: parseNumber(words[2], 'range', line),
          reserveOffset: words.length === 6 ? parseNumber(words[4], 'reserve start', line) : 0n,
          reserveRange: words.length === 6 ? parseNumber(words[5], 'reserve range', line) : 0n,
        };
        this.#haveVm = true;
        return command;
      }
      case 'bo': {
        arity(words, [3], 'bo <name> <size>', line);
        const name = parseName(words[1], line);
        if (this.#bos.has(name)) throw new TraceSyntaxError(line, `BO '${name}' is declared twice`);
        const size = parseNumber(words[2], 'size', line);
        this.#bos.add(name);
        return { kind: 'bo', line, name, size };
      }
      case 'map': {
        arity(words, [4, 5], 'map <addr> <range> <bo> <offset> | map <addr> <range> sparse', line);
        const addr = parseNumber(words[1], 'addr', line);
        const range = parseNumber(words[2], 'range', line);
        if (words.length === 4) {
          if (words[3] !== 'sparse') throw new TraceSyntaxError(line, 'usage: map <addr> <range> <bo> <offset> | map <addr> <range> sparse');
          return { kind: 'map', line, addr, range, bo: null, offset: 0n };
        }
        const bo = parseName(words[3], line);
        if (!this.#bos.has(bo)) throw new TraceSyntaxError(line, `unknown BO '${bo}' (declare it first with: bo ${bo} <size>)`);
        return { kind: 'map', line, addr, range, bo, offset: parseNumber(words[4], 'offset', line) };
      }
      case 'unmap':
        arity(words, [3], 'unmap <addr> <range>', line);
        return { kind: 'unmap', line, addr: parseNumber(words[1], 'addr', line), range: parseNumber(words[2], 'range', line) };
      case 'dump':
        arity(words, [1], 'dump', line);
        return { kind: 'dump', line };
      default:
        throw new TraceSyntaxError(line, `unknown command '${verb}' (expected vm, bo, map, unmap or dump)`);
    }
  }

  /** Says the trace has ended; throws TraceSyntaxError when it never created the VM. */
  end(): void {
    if (!this.#haveVm) throw new TraceSyntaxError(this.#line + 1, 'no vm command: a trace starts by creating the VM');
  }
}

/** Parses a whole trace (see {@link TraceParser}). Throws TraceSyntaxError naming the line. */
export function parseTrace(text: string): TraceCommand[] {
  const parser = new TraceParser();
  const commands: TraceCommand[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const command = parser.next(line);
    if (command !== null) commands.push(command);
  }
  parser.end();
  return commands;
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

// Sparse pieces print offset 0x0 wherever they appear, whatever offset the kernel computed for them.
function piece(addr: bigint, range: bigint, obj: GemObject | null, offset: bigint): string {
  return obj === null ? `${hex(addr)}:${hex(range)}:sparse:0x0` : `${hex(addr)}:${hex(range)}:${obj.name}:${hex(offset)}`;
}

function mapPiece(op: OpMap | null): string {
  return op === null ? '-' : piece(op.addr, op.range, op.obj, op.offset);
}

function vaWords(va: GpuVa): string {
  return va.obj === null ? `${hex(va.addr)} ${hex(va.range)} sparse 0x0` : `${hex(va.addr)} ${hex(va.range)} ${va.obj.name} ${hex(va.offset)}`;
}

/** The spec's text line for one op. */
export function formatOp(op: GpuVaOp): string {
  switch (op.type) {
    case 'map':
      return op.obj === null ? `map ${hex(op.addr)} ${hex(op.range)} sparse 0x0` : `map ${hex(op.addr)} ${hex(op.range)} ${op.obj.name} ${hex(op.offset)}`;
    case 'unmap':
      return `unmap ${vaWords(op.va)} keep=${op.keep ? 1 : 0}`;
    case 'remap': {
      const old = op.unmap.va;
      return `remap unmap=${piece(old.addr, old.range, old.obj, old.offset)} keep=${op.unmap.keep ? 1 : 0} prev=${mapPiece(op.prev)} next=${mapPiece(op.next)}`;
    }
    case 'prefetch':
      return `prefetch ${vaWords(op.va)}`;
  }
}

/** Ops generated so far, by type. */
export interface TraceOpCounts {
  /** MAP ops. */
  map: number;
  /** REMAP ops. */
  remap: number;
  /** UNMAP ops. */
  unmap: number;
}

/**
 * Replays parsed commands against a fresh GpuVm created from the `vm` command. Each map/unmap request
 * generates its ops (printed when an output array is given), then applies them.
 */
export class TraceReplayer {
  /** The VM being replayed into. */
  readonly vm: GpuVm;
  /** Declared BOs by name. */
  readonly bos = new Map<string, GemObject>();
  /** Ops generated so far. */
  readonly opCounts: TraceOpCounts = { map: 0, remap: 0, unmap: 0 };
  /** map/unmap requests executed so far, refused ones included. */
  requests = 0;

  /** Creates the VM; throws TraceSyntaxError (with the vm line) if it is invalid. */
  constructor(vmCommand: Extract<TraceCommand, { kind: 'vm' }>) {
    try {
      this.vm = new GpuVm({
        name: 'trace', start: vmCommand.start, range: vmCommand.range,
        reserveOffset: vmCommand.reserveOffset, reserveRange: vmCommand.reserveRange,
      });
    } catch (err) {
      if (err instanceof GpuVmRequestError) throw new TraceSyntaxError(vmCommand.line, `invalid VM: ${err.message}`);
      throw err;
    }
  }

  /** Executes `commands[from..to)`, appending output lines to `out` unless it is null. */
  executeRange(commands: readonly TraceCommand[], from: number, to: number, out: string[] | null): void {
    for (let i = from; i < to; i++) this.execute(commands[i] as TraceCommand, out);
  }

  /** Executes one command (a `vm` command is ignored: the constructor used it). */
  execute(cmd: TraceCommand, out: string[] | null): void {
    switch (cmd.kind) {
      case 'vm':
        return;
      case 'bo':
        this.bos.set(cmd.name, new GemObject(cmd.size, cmd.name));
        return;
      case 'dump':
        if (out === null) return;
        for (const line of this.dumpLines()) out.push(line);
        return;
      case 'map':
      case 'unmap':
        this.request(cmd, out);
    }
  }

  /** The output of a `dump` command, a line at a time (a writer can then flush a long dump as it goes). */
  *dumpLines(): Generator<string> {
    for (const va of this.vm.vas()) if (va !== this.vm.kernelAllocNode) yield `va ${vaWords(va)}`;
    yield 'end';
  }

  private request(cmd: Extract<TraceCommand, { kind: 'map' | 'unmap' }>, out: string[] | null): void {
    this.requests++;
    let ops;
    try {
      ops = cmd.kind === 'map'
        ? this.vm.smMapOps({ addr: cmd.addr, range: cmd.range, obj: cmd.bo === null ? null : this.bos.get(cmd.bo) as GemObject, offset: cmd.offset })
        : this.vm.smUnmapOps(cmd.addr, cmd.range);
    } catch (err) {
      if (!(err instanceof GpuVmRequestError)) throw err;
      if (out !== null) out.push(`error ${err.reason}`, 'end');
      return;
    }
    const counts = this.opCounts;
    for (const op of ops) {
      // Named increments: `counts[op.type]++` went through the megamorphic keyed load and store builtins.
      if (op.type === 'map') counts.map++;
      else if (op.type === 'remap') counts.remap++;
      else if (op.type === 'unmap') counts.unmap++;
      if (out !== null) out.push(formatOp(op));
    }
    this.vm.apply(ops);
    if (out !== null) out.push('end');
  }
}

/** Parses and replays a whole trace, returning the spec's output text. Throws TraceSyntaxError. */
export function replayTrace(text: string): string {
  const commands = parseTrace(text);
  const replayer = new TraceReplayer(commands[0] as Extract<TraceCommand, { kind: 'vm' }>);
  const out: string[] = [];
  replayer.executeRange(commands, 1, commands.length, out);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
