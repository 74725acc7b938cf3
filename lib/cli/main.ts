#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The drm-gpuvm command: one subcommand per file in this folder, dispatched by name.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Subcommand {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const subcommands: Record<string, Subcommand> = {
  trace: { summary: 'replay a GPUVM trace, streaming (split/merge ops, dump; --time [--json])', load: () => import('./trace.js') },
  info: { summary: 'list DRM nodes: type, driver, version, caps, card/render sibling (--json)', load: () => import('./info.js') },
  demo: { summary: 'tour buffers, mmap, dma-buf and fences on the first DRM node (else the software device); --backend window [--json]', load: () => import('./demo.js') },
  vm: { summary: 'run a command against a real vgem device in a QEMU VM (bookworm or sid kernel); --status [--json]', load: () => import('./vm.js') },
  'trace-gen': { summary: 'write a seeded GPUVM request stream in the trace format', load: () => import('./trace-gen.js') },
  map: { summary: 'draw the VA space of a trace or dump as SVG (--svg)', load: () => import('./map.js') },
  stress: { summary: 'concurrent map/unmap/obtain/put/evict under a VmBo lifetime policy, one-line report (--json)', load: () => import('./stress.js') },
};

function usage(): string {
  const lines = ['usage: drm-gpuvm <command> [options]', '       drm-gpuvm --version', '', 'commands:'];
  for (const [name, sub] of Object.entries(subcommands)) lines.push(`  ${name.padEnd(9)} ${sub.summary}`);
  lines.push('', 'drm-gpuvm <command> --help (or drm-gpuvm help <command>) shows its options. Usage errors exit 2.');
  return lines.join('\n') + '\n';
}

/** The package's version, from the package.json two folders up (beside dist/ and lib/ alike). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** Runs the drm-gpuvm command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === 'help' && rest.length > 0) return main([...rest.slice(0, 1), '--help', ...rest.slice(1)]);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (sub === undefined) {
    process.stderr.write(`drm-gpuvm: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const mod = await sub.load();
  return mod.run(rest);
}

// Run only when this file is the program (npx links to it through node_modules/.bin, hence realpath).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`drm-gpuvm: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
