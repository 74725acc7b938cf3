// SPDX-License-Identifier: MIT
// Peak memory of the streaming CLI commands on long inputs: `drm-gpuvm trace`, `map --svg` (a trace as
// input) and `trace-gen`, each run as its own process under /usr/bin/time -v (maximum resident set size),
// with the buffered replay (lib/trace replayTrace over the whole text, the output joined) beside them for
// comparison, and the streamed output checked to be byte-identical to the buffered one. `trace` also runs
// with V8's default young generation (three alternating pairs, medians), to show what holding it small
// saves in memory and costs in time.
//
// Inputs, generated into a temporary folder with the CLI's own trace-gen:
//   mixed   trace-gen --seed 7 --requests 200000: overlapping requests, keep=1, sparse, u64-edge errors,
//           a dump every 64 requests (3,125 dumps)
//   steady  trace-gen --profile steady --seed 7 --live 10000 --requests 200000 with a dump inserted after
//           every 1,000th request: dumps of about 10,000 mappings each
//
// Run: npm run build:ts && flock /tmp/drm-gpuvm-bench.lock node bench/cli-streaming-rss.mjs
// Needs /usr/bin/time (Debian: apt-get install time).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const traceModule = new URL('../dist/trace/trace.js', import.meta.url).href;
const TIME = '/usr/bin/time';
const REQUESTS = 200000;
// `drm-gpuvm trace` with and without its young-generation setting: alternating runs, medians reported.
const PAIRS = 3;

if (!existsSync(TIME)) {
  process.stderr.write(`${TIME} is missing (Debian: apt-get install time)\n`);
  process.exit(2);
}
if (!existsSync(cli)) {
  process.stderr.write('dist/ is missing: run npm run build:ts\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'cli-streaming-rss-'));

/** Runs argv under /usr/bin/time -v with stdout to `out` (a path); returns peak RSS in MB and seconds. */
function measured(argv, out) {
  const r = spawnSync('sh', ['-c', `exec "$0" -v "$@" > "${out}"`, TIME, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { mb: kb / 1024, seconds, bytes: statSync(out).size };
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Writes trace-gen's output for `args` to `path`, with a `dump` line after every `dumpEvery`-th request (0: none). */
async function generate(path, args, dumpEvery) {
  const gen = spawnSync(process.execPath, [cli, 'trace-gen', ...args], { maxBuffer: 1 << 30 });
  if (gen.status !== 0) throw new Error(`trace-gen ${args.join(' ')} failed`);
  const out = createWriteStream(path);
  let requests = 0;
  for (const line of gen.stdout.toString('utf8').split('\n')) {
    if (line === '') continue;
    out.write(`${line}\n`);
    if (dumpEvery > 0 && /^(map|unmap) /.test(line) && ++requests % dumpEvery === 0) out.write('dump\n');
  }
  await new Promise((resolve) => out.end(resolve));
}

// The same `drm-gpuvm trace` with V8's default young generation: a preload makes the CLI's
// setFlagsFromString (lib/cli/young-generation.ts) a no-op, so the cost of holding it small shows beside it.
const defaultYoungGeneration = `data:text/javascript,${encodeURIComponent(
  "import v8 from 'node:v8'; import { syncBuiltinESMExports } from 'node:module'; v8.setFlagsFromString = () => {}; syncBuiltinESMExports();")}`;

/** Medians of `runs` alternating runs of `a` and `b` (each a () => measurement). */
function alternating(runs, a, b) {
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    as.push(a());
    bs.push(b());
  }
  const median = (list) => {
    const sorted = (key) => list.map((m) => m[key]).sort((x, y) => x - y)[Math.floor(list.length / 2)];
    return { mb: sorted('mb'), seconds: sorted('seconds'), bytes: list[0].bytes };
  };
  return [median(as), median(bs)];
}

const buffered = `import { readFileSync } from 'node:fs'; import { replayTrace } from '${traceModule}';
process.stdout.write(replayTrace(readFileSync(process.argv[1], 'utf8')));`;

const rows = [];
const row = (what, input, m, same) => {
  rows.push({ what, input, ...m, same });
  process.stdout.write(`${what.padEnd(28)} ${input.padEnd(7)} peak RSS ${m.mb.toFixed(1).padStart(7)} MB  ${m.seconds.toFixed(1).padStart(6)} s  `
    + `output ${(m.bytes / 1e6).toFixed(1)} MB${same === undefined ? '' : `  ${same ? 'identical to buffered' : 'DIFFERS from buffered'}`}\n`);
};

try {
  process.stdout.write(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const inputs = {
    mixed: { args: ['--seed', '7', '--requests', String(REQUESTS)], dumpEvery: 0 },
    steady: { args: ['--profile', 'steady', '--seed', '7', '--live', '10000', '--requests', String(REQUESTS)], dumpEvery: 1000 },
  };
  for (const [name, { args, dumpEvery }] of Object.entries(inputs)) {
    const trace = join(dir, `${name}.trace`);
    await generate(trace, args, dumpEvery);
    const lines = readFileSync(trace, 'utf8').split('\n');
    process.stdout.write(`${name}: ${lines.filter((l) => /^(map|unmap) /.test(l)).length} requests, ${lines.filter((l) => l === 'dump').length} dumps, `
      + `${(statSync(trace).size / 1e6).toFixed(1)} MB\n`);
    const streamedOut = join(dir, `${name}.out`);
    const bufferedOut = join(dir, `${name}.buffered`);
    const defaultOut = join(dir, `${name}.default`);
    const [streamed, withDefault] = alternating(PAIRS,
      () => measured([process.execPath, cli, 'trace', trace], streamedOut),
      () => measured([process.execPath, '--import', defaultYoungGeneration, cli, 'trace', trace], defaultOut));
    const whole = measured([process.execPath, '--input-type=module', '-e', buffered, trace], bufferedOut);
    const same = sha256(streamedOut) === sha256(bufferedOut) && sha256(defaultOut) === sha256(bufferedOut);
    row('drm-gpuvm trace', name, streamed, same);
    row('  V8 default young gen', name, withDefault, undefined);
    rmSync(defaultOut);
    row('buffered replayTrace', name, whole, undefined);
    row('drm-gpuvm map --svg', name, measured([process.execPath, cli, 'map', '--svg', trace], join(dir, `${name}.svg`)), undefined);
    rmSync(bufferedOut);
    rmSync(streamedOut);
  }
  row('drm-gpuvm trace-gen', 'mixed', measured([process.execPath, cli, 'trace-gen', '--seed', '7', '--requests', String(REQUESTS)], join(dir, 'gen.trace')), undefined);
  process.stdout.write(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  if (rows.some((r) => r.same === false)) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
