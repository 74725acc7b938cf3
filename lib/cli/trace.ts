// SPDX-License-Identifier: MIT
// drm-gpuvm trace [--time] [FILE]: replays a GPUVM trace (docs/trace-format.md) from FILE or
// standard input. Parsing and replay live in lib/trace/trace.ts; this file reads, times and writes.
import { parseTrace, TraceReplayer, TraceSyntaxError, type TraceCommand } from '../trace/trace.js';
import { readCliInput } from './read-input.js';

const USAGE = 'usage: drm-gpuvm trace [--time | --kernel] [FILE]\n' +
  '  --kernel  replay through the kernel\'s drm_gpuvm (the vgpuvm test module; inside drm-gpuvm vm --kernel sid --with-vgpuvm)\n';

/** Runs the subcommand; returns the exit status (0, or 2 for bad usage or a malformed trace). */
export async function run(argv: string[]): Promise<number> {
  let time = false;
  let kernel = false;
  let file: string | undefined;
  for (const arg of argv) {
    if (arg === '--time') time = true;
    else if (arg === '--kernel') kernel = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg.startsWith('-') && arg !== '-') {
      process.stderr.write(`drm-gpuvm trace: unknown option '${arg}'\n${USAGE}`);
      return 2;
    } else if (file === undefined) file = arg;
    else {
      process.stderr.write(`drm-gpuvm trace: more than one FILE\n${USAGE}`);
      return 2;
    }
  }
  if (kernel) return time ? usageError('--kernel and --time') : (await import('./trace-kernel.js')).runKernelTrace(file);
  const source = readCliInput('trace', file);
  if (source === undefined) return 2;
  const { name, text } = source;
  let commands: TraceCommand[];
  let replayer: TraceReplayer;
  try {
    commands = parseTrace(text);
    replayer = new TraceReplayer(commands[0] as Extract<TraceCommand, { kind: 'vm' }>);
  } catch (err) {
    if (!(err instanceof TraceSyntaxError)) throw err;
    process.stderr.write(`drm-gpuvm trace: ${name}: ${err.message}\n`);
    return 2;
  }
  if (!time) {
    const out: string[] = [];
    replayer.executeRange(commands, 1, commands.length, out);
    if (out.length > 0) await write(`${out.join('\n')}\n`);
    return 0;
  }
  // Only runs of map/unmap requests are timed; declarations and dumps in between are not.
  let ns = 0n;
  let i = 1;
  while (i < commands.length) {
    let j = i;
    while (j < commands.length && isRequest(commands[j] as TraceCommand)) j++;
    if (j > i) {
      const t0 = process.hrtime.bigint();
      replayer.executeRange(commands, i, j, null);
      ns += process.hrtime.bigint() - t0;
      i = j;
    } else {
      replayer.execute(commands[i] as TraceCommand, null);
      i++;
    }
  }
  const { requests, opCounts } = replayer;
  const totalMs = Number(ns) / 1e6;
  const perRequest = requests === 0 ? 0 : Number(ns) / requests;
  await write(`time: requests=${requests} total_ms=${totalMs.toFixed(3)} ns_per_request=${perRequest.toFixed(1)} `
    + `ops(map=${opCounts.map} remap=${opCounts.remap} unmap=${opCounts.unmap}) final_mappings=${replayer.vm.vaCount}\n`);
  return 0;
}

function isRequest(cmd: TraceCommand): boolean {
  return cmd.kind === 'map' || cmd.kind === 'unmap';
}

function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

function usageError(what: string): number {
  process.stderr.write(`drm-gpuvm trace: ${what} do not go together\n${USAGE}`);
  return 2;
}
