#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// How long `drm-gpuvm vm` takes with a warm cache, per kernel: a trivial command (boot, run, power off) and
// the whole in-VM vitest suite. Usage: node bench/vm-boot.mjs [--runs N] [--no-suite] > results.md
// Prints a Markdown report with the host's load, since the machine's cores are shared and timings move with it.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'dist', 'cli', 'main.js');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const withSuite = !args.includes('--no-suite');
const kernels = ['bookworm', 'sid'];

function timed(argv, { allowFailure = false } = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'vm', ...argv], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0 && !allowFailure) throw new Error(`vm ${argv.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { seconds, stdout: r.stdout, status: r.status };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const f = (x) => x.toFixed(1);

const lines = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(`${line}\n`);
};

out(`# drm-gpuvm vm: warm-cache timings`);
out();
out(`Command: \`node bench/vm-boot.mjs --runs ${runs}${withSuite ? '' : ' --no-suite'}\`, ${new Date().toISOString()}`);
out(`Host: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average at start ${loadavg().map(f).join(' ')} (cores shared with other jobs)`);
out();
// Warm the cache (kernel download, initramfs, uncompressed vmlinux) so that no timed run pays for it.
for (const kernel of kernels) timed(['--kernel', kernel, '--', 'true']);

out(`## \`drm-gpuvm vm --kernel K -- cat /proc/uptime\` (${runs} runs; wall = the whole command on the host, guest = kernel uptime when the command started)`);
out();
out('| kernel | wall min | wall median | wall max | guest uptime median |');
out('|---|---|---|---|---|');
for (const kernel of kernels) {
  const walls = [];
  const guests = [];
  for (let i = 0; i < runs; i++) {
    const r = timed(['--kernel', kernel, '--', 'cat', '/proc/uptime']);
    walls.push(r.seconds);
    guests.push(Number(r.stdout.split(' ')[0]));
  }
  const w = stats(walls);
  out(`| ${kernel} | ${f(w.min)} s | ${f(w.median)} s | ${f(w.max)} s | ${f(stats(guests).median)} s |`);
}

if (withSuite) {
  out();
  out('## The in-VM suite: `drm-gpuvm vm --kernel K -- node node_modules/vitest/vitest.mjs run --project guest` (1 run)');
  out();
  out('| kernel | wall | exit | vitest summary |');
  out('|---|---|---|---|');
  for (const kernel of kernels) {
    // Timed whatever the suite's verdict: a failing test is the suite's business, not the timing's.
    const r = timed(['--kernel', kernel, '--', process.execPath, vitest, 'run', '--project', 'guest'], { allowFailure: true });
    const summary = /Tests\s+([^\n]+)/.exec(r.stdout)?.[1]?.trim() ?? '?';
    out(`| ${kernel} | ${f(r.seconds)} s | ${r.status} | ${summary} |`);
  }
}
out();
out(`Load average at end: ${loadavg().map(f).join(' ')}`);
process.stdout.write(lines.join('\n') + '\n');
