// SPDX-License-Identifier: MIT
// Every README example is a test: each runnable block of README.md (see test/support/readme-blocks.ts for
// the markers) runs against the packed package installed in a fresh consumer project. `sh` commands run
// there verbatim with bash (`npm install drm-gpuvm` installs the packed tarball instead of the registry's),
// those that boot `drm-gpuvm vm` included; ts/js blocks are compiled as a TypeScript user's build would
// (`using` needs it on Node 20) and run with node on the host (the software device) or, marked `vm`,
// inside `drm-gpuvm vm` on each Debian kernel (`host` adds the host, `vgpuvm` the sid VM with vgpuvm loaded).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEBIAN_SUITES } from '../../lib/qemu/vm-args.js';
import { readmeBlocks, type ReadmeBlock } from '../support/readme-blocks.js';
import { consumerEnv } from './consumer-setup.js';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const consumer = inject('consumer');
const tarball = inject('tarball');
const blocks = readmeBlocks(readFileSync(join(repo, 'README.md'), 'utf8'));
// The first use of a kernel downloads it, and of --with-vgpuvm builds a sid chroot: minutes.
const BLOCK_MS = 1_200_000;

/** Where the blocks ran (passed or failed) and how many of those runs failed, for the count at the end. */
const ran = { host: 0, vm: new Map<string, number>([...DEBIAN_SUITES.map((k): [string, number] => [k, 0]), ['sid --with-vgpuvm', 0]]), failed: 0, skipped: 0 };

/** Counts a block's run in each place (undefined: the host), and its failure when `body` throws. */
function counted(places: readonly (string | undefined)[], body: () => void): void {
  for (const place of places) {
    if (place === undefined) ran.host++;
    else ran.vm.set(place, (ran.vm.get(place) ?? 0) + 1);
  }
  try {
    body();
  } catch (err) {
    ran.failed++;
    throw err;
  }
}

function run(command: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd: consumer, env: { ...consumerEnv(), NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function copyFiles(block: ReadmeBlock): void {
  for (const [to, from] of block.files) {
    mkdirSync(dirname(join(consumer, to)), { recursive: true });
    cpSync(join(repo, from), join(consumer, to), { recursive: true });
  }
}

/** The kernels the block's `drm-gpuvm vm` commands boot, `sid --with-vgpuvm` apart (none: it runs on the host only). */
function vmKernels(block: ReadmeBlock): string[] {
  return block.commands.filter((c) => /drm-gpuvm vm\b/.test(c.text)).map((c) => {
    const kernel = /--kernel (\S+)/.exec(c.text)?.[1] ?? 'bookworm';
    return /drm-gpuvm vm\b[^|;&]*--with-vgpuvm/.test(c.text) ? `${kernel} --with-vgpuvm` : kernel;
  });
}

/** A ts/js block with the blocks it continues, as one program. */
function program(index: number): string {
  const parts = [blocks[index]!];
  for (let i = index - 1; parts[0]!.continues && i >= 0; i--) if (blocks[i]!.lang !== 'sh') parts.unshift(blocks[i]!);
  return parts.map((b) => b.body).join('');
}

function compile(index: number): string {
  const block = blocks[index]!;
  const { outputText, diagnostics } = ts.transpileModule(program(index), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    reportDiagnostics: true,
  });
  expect(diagnostics ?? []).toEqual([]);
  const file = `readme-line-${block.line}.mjs`;
  writeFileSync(join(consumer, file), outputText);
  return file;
}

function title(block: ReadmeBlock): string {
  const first = block.body.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('//')) ?? '';
  return `README line ${block.line} (${block.lang}): ${first.length > 70 ? `${first.slice(0, 70)}...` : first}`;
}

describe('README examples, against the packed package in a consumer project', () => {
  it('finds the runnable blocks', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  blocks.forEach((block, index) => {
    if (block.skip !== undefined) {
      ran.skipped++;
      it.skip(`${title(block)} -- not run: ${block.skip}`, () => {});
      return;
    }
    if (block.lang === 'sh') {
      it(title(block), () => {
        const kernels = [...new Set(vmKernels(block))];
        counted(kernels.length === 0 ? [undefined] : kernels, () => {
          copyFiles(block);
          for (const command of block.commands) {
            const text = command.text.replace(/\bnpm install drm-gpuvm\b/g, `npm install --no-audit --no-fund ${tarball}`);
            const r = run(text);
            expect({ line: command.line, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ line: command.line, status: 0, stderr: '' });
            if (command.stdout !== undefined) expect(r.stdout).toBe(command.stdout);
          }
        });
      }, BLOCK_MS);
      return;
    }
    const where = block.vm
      ? [...(block.host ? ['host'] : []), ...DEBIAN_SUITES.map((k) => `vm ${k}`), ...(block.vgpuvm ? ['vm sid --with-vgpuvm'] : [])]
      : ['host'];
    for (const place of where) {
      it(`${title(block)} [${place}]`, () => {
        const kernel = place.startsWith('vm ') ? place.slice(3) : undefined;
        counted([kernel], () => {
          copyFiles(block);
          const file = compile(index);
          const r = run(kernel === undefined ? `node ${file}` : `npx drm-gpuvm vm --kernel ${kernel} -- node ${file}`);
          expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
        });
      }, BLOCK_MS);
    }
  });
});

afterAll(() => {
  const vm = [...ran.vm].map(([k, n]) => `${n} in the VM on ${k}`).join(', ');
  console.log(`README examples: ${ran.host} blocks run on the host, ${vm}, ${ran.failed} failed; ${ran.skipped} marked not runnable`);
});
