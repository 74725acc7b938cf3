// SPDX-License-Identifier: MIT
// Sanity of the test-only reference models themselves, before they judge lib/gpuvm: both replay the trace
// spec's twelve cases byte for byte, and they agree with each other on random small VMs.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallWorld, topOfU64World, type AnyRefRequest, type World } from '../../support/gpuvm-arbitraries.js';
import { IntervalModel } from '../../support/interval-model.js';
import { PageModel } from '../../support/page-model.js';
import { applyOpsToList, type ReferenceModel, type RefResult } from '../../support/reference-ops.js';
import { replayWithReference } from '../../support/reference-trace.js';

// A hang guard, not a speed check: the runs are sized for about a minute in all on an idle 2-core machine,
// and a loaded shared machine can be several times slower.
const PROPERTY_TIMEOUT = 600_000;

const CASES = new URL('../../fixtures/trace-cases/', import.meta.url);
const caseNames = readdirSync(CASES).filter((name) => name.endsWith('.trace')).sort();

describe('reference models replay the spec trace cases exactly', () => {
  it('finds the twelve cases', () => {
    expect(caseNames).toHaveLength(12);
  });
  it.each(caseNames)('interval model: %s', (name) => {
    const trace = readFileSync(new URL(name, CASES), 'utf8');
    const expected = readFileSync(new URL(name.replace(/\.trace$/, '.out'), CASES), 'utf8');
    expect(replayWithReference(trace, (config) => new IntervalModel(config))).toBe(expected);
  });
  it.each(caseNames)('page model (4 KiB pages): %s', (name) => {
    const trace = readFileSync(new URL(name, CASES), 'utf8');
    const expected = readFileSync(new URL(name.replace(/\.trace$/, '.out'), CASES), 'utf8');
    expect(replayWithReference(trace, (config) => new PageModel(config, 0x1000n))).toBe(expected);
  });
});

function send(model: ReferenceModel, request: AnyRefRequest): RefResult {
  if (request.kind === 'map') return model.map(request.req);
  return request.kind === 'unmap' ? model.unmap(request.addr, request.range) : model.madvise(request.addr, request.range);
}

/** Both models answer every request alike, and each op list turns the old tree into the new one. */
function modelsAgree(world: World<AnyRefRequest>): void {
  const pages = new PageModel(world.config, world.unit);
  const intervals = new IntervalModel(world.config);
  for (const request of world.requests) {
    const before = intervals.mappings();
    const fromIntervals = send(intervals, request);
    expect(send(pages, request)).toEqual(fromIntervals);
    expect(pages.mappings()).toEqual(intervals.mappings());
    const after = 'ops' in fromIntervals ? applyOpsToList(before, fromIntervals.ops) : before;
    expect(intervals.mappings()).toEqual(after);
  }
}

describe('the page model and the interval model agree', () => {
  const runs = 2000;
  it(`on ${runs} random sequences in small VMs of 4 KiB pages`, () => {
    fc.assert(fc.property(smallWorld(24, true), modelsAgree), { numRuns: runs });
  }, PROPERTY_TIMEOUT);
  it(`on ${runs} random sequences in tiny VMs ending at 2^64-1, byte by byte`, () => {
    fc.assert(fc.property(topOfU64World(16, true), modelsAgree), { numRuns: runs });
  }, PROPERTY_TIMEOUT);
});

/** How often each outcome shows up when `worlds` replay through the interval model. */
function outcomes(worlds: World<AnyRefRequest>[]): Map<string, number> {
  const seen = new Map<string, number>();
  const count = (key: string): void => { seen.set(key, (seen.get(key) ?? 0) + 1); };
  for (const world of worlds) {
    const model = new IntervalModel(world.config);
    for (const request of world.requests) {
      const result = send(model, request);
      if ('error' in result) { count(`error ${result.error}`); continue; }
      count(`${request.kind} ok`);
      for (const op of result.ops) {
        if (op.kind === 'map') continue;
        const va = op.kind === 'unmap' ? op.va : op.unmap;
        const shape = op.kind === 'remap' ? `remap${op.prev ? '+prev' : ''}${op.next ? '+next' : ''}` : 'unmap';
        count(`${request.kind} ${shape} keep=${op.keep ? 1 : 0}${va.bo === null ? ' sparse' : ''}`);
      }
    }
  }
  return seen;
}

describe('the random worlds reach every case', () => {
  it('small VMs: every error, every op shape, keep=1 on unmap and remap, sparse, madvise splits', () => {
    const seen = outcomes(fc.sample(smallWorld(24, true), { numRuns: 300, seed: 1 }));
    for (const key of ['error zero_range', 'error out_of_range', 'error reserved', 'error bo_bounds',
      'map unmap keep=0', 'map unmap keep=1', 'map remap+prev keep=1', 'map remap+next keep=1', 'map remap+prev+next keep=1',
      'map remap+prev+next keep=0 sparse', 'unmap unmap keep=0', 'unmap remap+prev+next keep=0',
      'madvise remap+prev keep=0 sparse', 'madvise remap+next keep=0 sparse', 'madvise remap+prev+next keep=0 sparse']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(3);
    }
  });
  it('VMs ending at 2^64-1: overflow, out_of_range, reserved, bo_bounds and successful requests', () => {
    const seen = outcomes(fc.sample(topOfU64World(16, true), { numRuns: 300, seed: 1 }));
    for (const key of ['error zero_range', 'error overflow', 'error out_of_range', 'error reserved', 'error bo_bounds', 'map ok', 'unmap ok']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(3);
    }
  });
});
