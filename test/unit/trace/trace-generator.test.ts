// SPDX-License-Identifier: MIT
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as traceGen } from '../../../lib/cli/trace-gen.js';
import { formatTraceCommand, generateTrace, type TraceGeneratorParams } from '../../../lib/trace/trace-generator.js';
import { IntervalModel } from '../../support/interval-model.js';
import { replayWithReference } from '../../support/reference-trace.js';

const text = (params: TraceGeneratorParams): string => [...generateTrace(params)].map((c) => `${formatTraceCommand(c)}\n`).join('');
const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

describe('generateTrace', () => {
  it('gives the same stream for the same seed and params', () => {
    const params: TraceGeneratorParams = { seed: 7, profile: 'mixed', requests: 500 };
    expect(text(params)).toBe(text(params));
  });

  it('gives another stream for another seed', () => {
    expect(text({ seed: 7, profile: 'mixed', requests: 200 })).not.toBe(text({ seed: 8, profile: 'mixed', requests: 200 }));
  });

  // These streams are replayed on kernel drivers (drm-gpuvm trace --kernel, the benchmarks): a change here
  // changes what was measured there, so it must come with a new TRACE_GENERATOR_VERSION and new pins.
  it.each([
    [{ seed: 1, profile: 'mixed', requests: 1000 }, '6ae712eb67e89c1f'],
    [{ seed: 2, profile: 'mixed', requests: 1000 }, '4fbd5b908f145710'],
    [{ seed: 3, profile: 'steady', requests: 1000, liveMappings: 1000 }, 'e4c4004c9a6d8366'],
  ] as [TraceGeneratorParams, string][])('is pinned: %o', (params, digest) => {
    expect(sha(text(params))).toBe(digest);
  });

  it('writes only lines of the trace format', () => {
    const line = /^(# .*|vm 0x[0-9a-f]+ 0x[0-9a-f]+( reserve 0x[0-9a-f]+ 0x[0-9a-f]+)?|bo [A-Za-z0-9_]+ 0x[0-9a-f]+|map 0x[0-9a-f]+ 0x[0-9a-f]+ (sparse|[A-Za-z0-9_]+ 0x[0-9a-f]+)|unmap 0x[0-9a-f]+ 0x[0-9a-f]+|dump)$/;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      for (const l of text({ seed, profile: 'mixed', requests: 300 }).trimEnd().split('\n')) expect(l).toMatch(line);
    }
    for (const l of text({ seed: 1, profile: 'steady', requests: 300, liveMappings: 100 }).trimEnd().split('\n')) expect(l).toMatch(line);
  });

  it('mixed streams reach every error word, keep=1, identical re-maps, sparse pieces and all three VMs', () => {
    const out = new Set<string>();
    const vms = new Set<string>();
    for (let seed = 0; seed < 24; seed++) {
      const trace = text({ seed, profile: 'mixed', requests: 400 });
      vms.add(trace.split('\n').find((l) => l.startsWith('vm '))!.replace(/ reserve.*/, ''));
      for (const l of replayWithReference(trace, (config) => new IntervalModel(config)).split('\n')) {
        out.add(l.replace(/0x[0-9a-f]+/g, 'N').replace(/ (a|b|c|id) /g, ' bo ').replace(/:(a|b|c|id):/g, ':bo:'));
      }
    }
    for (const word of ['zero_range', 'overflow', 'out_of_range', 'reserved', 'bo_bounds']) expect(out).toContain(`error ${word}`);
    expect(out).toContain('unmap N N bo N keep=1');
    expect(out).toContain('unmap N N sparse N keep=0');
    expect([...out].some((l) => /^remap .* keep=1 prev=N:N:bo:N next=N:N:bo:N$/.test(l))).toBe(true);
    expect([...out].some((l) => /^remap unmap=N:N:sparse:N keep=0 prev=N/.test(l))).toBe(true);
    expect(vms).toEqual(new Set(['vm 0x0 0x100000000', 'vm 0xfffffffeffffffff 0x100000000', 'vm 0x0 0xffffffffffffffff']));
  });

  it('steady streams fill exactly liveMappings distinct slots, then stay near that many mappings', () => {
    const commands = [...generateTrace({ seed: 5, profile: 'steady', requests: 4000, liveMappings: 400 })];
    const fill = commands.filter((c) => c.kind === 'map').slice(0, 400);
    expect(new Set(fill.map((c) => c.kind === 'map' && c.addr)).size).toBe(400);
    const model = new IntervalModel({ start: 0n, range: 1n << 48n, reserve: null, bos: new Map(['a', 'b', 'c', 'd'].map((n) => [n, 0x40000000n])) });
    let sum = 0;
    let after = 0;
    for (const c of commands) {
      if (c.kind === 'map') model.map(c);
      else if (c.kind === 'unmap') model.unmap(c.addr, c.range);
      else if (c.kind === 'comment' && c.text.startsWith('fill done')) {
        expect(model.mappings()).toHaveLength(400);
        after = 1;
      }
      if (after > 0 && (c.kind === 'map' || c.kind === 'unmap')) { sum += model.mappings().length; after++; }
    }
    const mean = sum / (after - 1);
    expect(mean).toBeGreaterThan(400 * 0.9);
    expect(mean).toBeLessThan(400 * 1.3);
  }, 120_000);

  it.each([
    [{ seed: -1, profile: 'mixed', requests: 1 }],
    [{ seed: 2 ** 32, profile: 'mixed', requests: 1 }],
    [{ seed: 1.5, profile: 'mixed', requests: 1 }],
    [{ seed: 1, profile: 'mixed', requests: -1 }],
    [{ seed: 1, profile: 'steady', requests: 1 }],
    [{ seed: 1, profile: 'steady', requests: 1, liveMappings: 0 }],
  ] as [TraceGeneratorParams][])('refuses %o with ERR_OUT_OF_RANGE before yielding anything', (params) => {
    expect(() => generateTrace(params).next()).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });

  it('refuses an unknown profile with ERR_INVALID_ARG_VALUE before yielding anything', () => {
    const params = { seed: 1, profile: 'other', requests: 1 } as unknown as TraceGeneratorParams;
    expect(() => generateTrace(params).next()).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('drm-gpuvm trace-gen', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  const capture = (stream: NodeJS.WriteStream): string[] => {
    const written: string[] = [];
    vi.spyOn(stream, 'write').mockImplementation((data: string | Uint8Array) => { written.push(String(data)); return true; });
    return written;
  };

  it('prints the same stream as generateTrace for the same options', async () => {
    const out = capture(process.stdout);
    expect(await traceGen(['--seed', '9', '--profile', 'steady', '--requests', '3000', '--live', '2000'])).toBe(0);
    expect(out.join('')).toBe(text({ seed: 9, profile: 'steady', requests: 3000, liveMappings: 2000 }));
  });

  it.each([
    [['--seed', 'x']], [['--seed', '4294967296']], [['--profile', 'other']], [['--live', '10']], [['--profile', 'steady']], [['--bogus']], [['extra']],
  ])('refuses %o with exit status 2 and writes no stream', async (argv) => {
    const out = capture(process.stdout);
    const err = capture(process.stderr);
    expect(await traceGen(argv)).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('')).toMatch(/^drm-gpuvm trace-gen: .*\nusage: drm-gpuvm trace-gen/);
  });
});
