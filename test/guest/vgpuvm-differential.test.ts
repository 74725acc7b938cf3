// SPDX-License-Identifier: MIT
// The kernel's own drm_gpuvm (through the vgpuvm module's VM_BIND) against our TypeScript model: the same
// trace goes through both, and the kernel's ops and mappings, printed in the trace format by replay.c, must
// equal the model's output line for line, after every request. Seeded streams from the trace generator
// (overlaps, same-BO keep=1 cases, sparse maps, reserved nodes, u64-edge errors) plus the twelve spec cases,
// in each of the module's three VmBo lifetime designs (staged under the resv; immediate under the gpuva lock;
// immediate with deferred cleanup). At every dump, replay --check-va also reads mappings back through the
// kernel's VA (VM_RW): each shows its BO's pages at its offset, zeros where sparse, and gaps fault.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTraceCommand, generateTrace } from '../../lib/trace/trace-generator.js';
import { replayTrace } from '../../lib/trace/trace.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';

const setup = await findVgpuvm();
// A suite that cannot run says so: a skip is not a pass.
if (!setup.ready) process.stderr.write(`vgpuvm differential: NOT RUN (skipped, not passed): ${setup.reason}\n`);

/** Seeds 1..SEEDS with REQUESTS requests each: 20,000 kernel requests per design. */
const SEEDS = 10;
const REQUESTS = 2000;
const SPEC_CASES = new URL('../fixtures/trace-cases/', import.meta.url);
const MODES = [
  { name: 'resv (staged)', args: ['--design', 'resv'] },
  { name: 'gpuva-lock (immediate)', args: ['--design', 'gpuva-lock'] },
  { name: 'deferred (immediate)', args: ['--design', 'deferred'] },
];

const work = mkdtempSync(join(tmpdir(), 'vgpuvm-differential-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The kernel's output for a trace, through replay.c, with the number of VA reads --check-va made. */
function kernelReplay(trace: string, modeArgs: string[]): { output: string; vaReads: number } {
  if (!setup.ready) throw new Error('unreachable: suite skipped');
  const file = join(work, 'trace');
  writeFileSync(file, trace);
  const result = spawnSync(setup.tool('replay'), [...modeArgs, '--check-va', '--node', setup.node, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`replay exited ${result.status}: ${result.stderr}`);
  const reads = /replay: (\d+) VA reads checked/.exec(result.stderr);
  if (reads === null) throw new Error(`replay did not say how many VA reads it checked: ${result.stderr}`);
  return { output: result.stdout, vaReads: Number(reads[1]) };
}

/**
 * Where two outputs first differ, with the request that produced the differing block, or undefined when
 * they are equal. Blocks end with `end`, one per request or dump, in trace order.
 */
function firstDifference(trace: string, model: string, kernel: string): string | undefined {
  if (model === kernel) return undefined;
  const m = model.split('\n');
  const k = kernel.split('\n');
  let line = 0;
  while (line < m.length && m[line] === k[line]) line++;
  const block = m.slice(0, line).filter((l) => l === 'end').length;
  const requests = trace.split('\n').filter((l) => /^(map|unmap|dump)\b/.test(l));
  return `request #${block + 1} (${requests[block] ?? '?'}): line ${line + 1}\n  model:  ${m[line] ?? '<end of output>'}\n  kernel: ${k[line] ?? '<end of output>'}`;
}

function countLines(text: string, pattern: RegExp): number {
  return text.split('\n').filter((line) => pattern.test(line)).length;
}

function mixedTrace(seed: number): string {
  const lines: string[] = [];
  for (const command of generateTrace({ seed, profile: 'mixed', requests: REQUESTS })) lines.push(formatTraceCommand(command));
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!setup.ready)('vgpuvm: kernel drm_gpuvm equals the TypeScript model', () => {
  for (const mode of MODES) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      it(`${mode.name}: mixed stream, seed ${seed}, ${REQUESTS} requests`, () => {
        const trace = mixedTrace(seed);
        const { output: kernel, vaReads } = kernelReplay(trace, mode.args);
        // One `end` per request or dump: the comparison below is never between two empty outputs.
        expect(countLines(kernel, /^end$/)).toBe(countLines(trace, /^(map|unmap|dump)\b/));
        expect(firstDifference(trace, replayTrace(trace), kernel)).toBeUndefined();
        // The dumps' mappings were read through the kernel's VA, and every read showed what the tree says.
        expect(vaReads).toBeGreaterThan(countLines(trace, /^dump$/));
        process.stderr.write(`vgpuvm differential ${mode.name} seed ${seed}: ${vaReads} VA reads checked\n`);
      }, 300_000);
    }

    it(`${mode.name}: the twelve spec cases`, () => {
      const cases = readdirSync(SPEC_CASES).filter((name) => name.endsWith('.trace')).sort();
      expect(cases).toHaveLength(12);
      for (const name of cases) {
        const trace = readFileSync(new URL(name, SPEC_CASES), 'utf8');
        const expected = readFileSync(new URL(name.replace(/\.trace$/, '.out'), SPEC_CASES), 'utf8');
        expect(firstDifference(trace, expected, kernelReplay(trace, mode.args).output), name).toBeUndefined();
      }
    }, 120_000);
  }
});
