// SPDX-License-Identifier: MIT
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace, replayTrace, TraceReplayer, type TraceCommand } from '../../../lib/trace/trace.js';
import { GemObject } from '../../../lib/gpuvm/gem.js';
import { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import { isVaDump, parseVaDump, vaMapInputFromGpuVm, VaDumpSyntaxError } from '../../../lib/va-map/va-map-input.js';

const CASES = join(import.meta.dirname, '../../fixtures/trace-cases');

describe('vaMapInputFromGpuVm', () => {
  it('lists the mappings in address order and the reserved node apart', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000, reserveOffset: 0, reserveRange: 0x1000 });
    const bo = new GemObject(0x10000, 'a');
    vm.apply(vm.smMapOps({ addr: 0x8000, range: 0x2000, obj: bo, offset: 0x1000 }));
    vm.apply(vm.smMapOps({ addr: 0x2000, range: 0x1000, obj: null }));
    expect(vaMapInputFromGpuVm(vm, 't')).toEqual({
      start: 0n, range: 0x100000n, reserved: { addr: 0n, range: 0x1000n }, title: 't',
      mappings: [{ addr: 0x2000n, range: 0x1000n, bo: null, offset: 0n }, { addr: 0x8000n, range: 0x2000n, bo: 'a', offset: 0x1000n }],
    });
  });
  it('names unnamed GEMs apart, so each keeps its own legend entry', () => {
    const vm = new GpuVm({ start: 0, range: 0x100000 });
    const [x, y] = [new GemObject(0x1000), new GemObject(0x1000)];
    for (const [addr, obj] of [[0x1000, x], [0x2000, y], [0x3000, x]] as const) vm.apply(vm.smMapOps({ addr, range: 0x1000, obj }));
    expect(vaMapInputFromGpuVm(vm).mappings.map((m) => m.bo)).toEqual(['unnamed#1', 'unnamed#2', 'unnamed#1']);
  });
});

describe('parseVaDump', () => {
  it('agrees with the replayed GpuVm on every spec trace case', () => {
    const traces = readdirSync(CASES).filter((f) => f.endsWith('.trace'));
    expect(traces.length).toBe(12);
    for (const file of traces) {
      const text = `${readFileSync(join(CASES, file), 'utf8')}\ndump\n`;
      const commands = parseTrace(text);
      const replayer = new TraceReplayer(commands[0] as Extract<TraceCommand, { kind: 'vm' }>);
      replayer.executeRange(commands, 1, commands.length, null);
      const vmLine = text.split('\n').find((l) => l.startsWith('vm '))!;
      const fromDump = parseVaDump(`${vmLine}\n${replayTrace(text)}`);
      const fromVm = vaMapInputFromGpuVm(replayer.vm);
      expect({ file, mappings: fromDump.mappings, reserved: fromDump.reserved }).toEqual({ file, mappings: fromVm.mappings, reserved: fromVm.reserved });
    }
  });
  it('takes the last dump block when given the whole output of drm-gpuvm trace', () => {
    const input = parseVaDump('map 0x0 0x1000 a 0x0\nend\nva 0x0 0x1000 a 0x0\nend\nunmap 0x0 0x1000 a 0x0 keep=0\nend\nva 0x2000 0x1000 sparse 0x0\nend\n');
    expect(input.mappings).toEqual([{ addr: 0x2000n, range: 0x1000n, bo: null, offset: 0n }]);
  });
  it('uses a vm line for the VA space and its reserved node', () => {
    const input = parseVaDump('vm 0x1000 0x10000 reserve 0x1000 0x1000\nva 0x4000 0x1000 a 0x0\n');
    expect([input.start, input.range, input.reserved]).toEqual([0x1000n, 0x10000n, { addr: 0x1000n, range: 0x1000n }]);
  });
  it('draws over the whole u64 space without a vm line, and says so', () => {
    const input = parseVaDump('va 0xfffffffffffff000 0xfff a 0x0\n');
    expect([input.start, input.range]).toEqual([0n, 2n ** 64n - 1n]);
    expect(input.title).toMatch(/no vm line/);
  });
  it.each([
    ['va 0x0 0x1000 a\n', 1, /usage: va/],
    ['va 0x0 0x1000 a-b 0x0\n', 1, /BO name/],
    ['va 0x0 4096 a 0x0\n', 1, /hexadecimal/],
    ['va 0x0 0x10000000000000000 a 0x0\n', 1, /u64/],
    ['va 0x0 0x1000 a 0x0\nva 0x800 0x1000 a 0x0\n', 2, /overlaps or precedes the one on line 1/],
    ['va 0x0 0x0 a 0x0\n', 1, /empty/],
    ['vm 0x0 0x1000\nva 0x1000 0x1000 a 0x0\n', 2, /outside/],
    ['vm 0x0 0x10000 reserve 0x0 0x2000\nva 0x1000 0x1000 a 0x0\n', 2, /reserved node/],
    ['vm 0x0 0x1000\nvm 0x0 0x1000\nva 0x0 0x1000 a 0x0\n', 2, /second vm/],
    ['vm 0x1 0xffffffffffffffff\nva 0x1 0x1 a 0x0\n', 1, /2\^64-1/],
    ['va 0x0 0x1000 a 0x0\nfrobnicate\n', 2, /unknown line 'frobnicate'/],
  ])('refuses %j at line %i', (text, line, message) => {
    const err = (() => { try { parseVaDump(text); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(VaDumpSyntaxError);
    expect(err).toMatchObject({ line, code: 'ERR_VA_DUMP_SYNTAX', message: expect.stringMatching(message) });
  });
});

describe('isVaDump', () => {
  it('tells a dump (va lines) from a trace (never has them)', () => {
    expect(isVaDump('vm 0x0 0x1000\nmap 0x0 0x1000 sparse\ndump\n')).toBe(false);
    expect(isVaDump('map 0x0 0x1000 sparse 0x0\nend\n  va 0x0 0x1000 sparse 0x0\nend\n')).toBe(true);
  });
});
