// SPDX-License-Identifier: MIT
// drm-gpuvm trace [--time [--json]] [FILE]: replays a GPUVM trace (docs/trace-format.md) from FILE
// or standard input. Parsing and replay live in lib/trace/trace.ts; this file reads, times and writes. It
// streams: each chunk of input lines is parsed, replayed and its output written (with back-pressure) before
// the next chunk is read, so memory depends on the live mappings, never on the trace's length.
import { TraceParser, TraceReplayer, TraceSyntaxError, type TraceCommand } from '../trace/trace.js';
import { runCommand, UsageError } from './command-line.js';
import { writeJson } from './json-output.js';
import { LineOutput } from './line-output.js';
import { CliInputError, openCliInput } from './read-input.js';
import { keepYoungGenerationSmall } from './young-generation.js';

const USAGE = `usage: drm-gpuvm trace [--time [--json] | --kernel] [FILE]
  FILE      the trace; standard input when absent or -
  --time    replay without printing ops; print one line with the time spent in map/unmap requests
  --json    with --time: print one JSON object instead of the line
  --kernel  replay through the kernel's drm_gpuvm (the vgpuvm test module; inside drm-gpuvm vm --kernel sid --with-vgpuvm)
`;

const SPEC = {
  name: 'trace',
  usage: USAGE,
  operand: 'FILE',
  options: { time: { type: 'boolean' }, json: { type: 'boolean' }, kernel: { type: 'boolean' } },
} as const;

/** What `--time` measured. */
interface TraceTiming {
  ns: bigint;
}

/** Runs the subcommand; returns the exit status (0, or 2 for bad usage or a malformed trace). */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, async ({ values, operand }) => {
    if (values.kernel === true) {
      if (values.time === true || values.json === true) throw new UsageError(`--kernel and --${values.time === true ? 'time' : 'json'} do not go together`);
      return (await import('./trace-kernel.js')).runKernelTrace(operand);
    }
    if (values.json === true && values.time !== true) throw new UsageError('--json applies only to --time');
    let name = operand ?? 'stdin';
    try {
      const input = openCliInput(operand);
      name = input.name;
      return values.time === true ? await timeTrace(input.lines, values.json === true) : await replayToOutput(input.lines);
    } catch (err) {
      if (!(err instanceof TraceSyntaxError || err instanceof CliInputError)) throw err;
      process.stderr.write(`drm-gpuvm trace: ${err instanceof TraceSyntaxError ? `${name}: ` : ''}${err.message}\n`);
      return 2;
    }
  });
}

/**
 * Parses each batch of lines into commands and hands them to `replay`, with the replayer made from the
 * trace's `vm` command. A malformed line stops the trace there: the commands before it are still replayed,
 * then its TraceSyntaxError is thrown.
 */
async function forEachBatch(
  lines: AsyncIterable<string[]>,
  replay: (replayer: TraceReplayer, commands: readonly TraceCommand[]) => Promise<boolean | void>,
): Promise<TraceReplayer | undefined> {
  const parser = new TraceParser();
  let replayer: TraceReplayer | undefined;
  const commands: TraceCommand[] = [];
  for await (const batch of lines) {
    commands.length = 0;
    let malformed: TraceSyntaxError | undefined;
    try {
      for (const text of batch) {
        const command = parser.next(text);
        if (command === null) continue;
        if (command.kind === 'vm') replayer = new TraceReplayer(command);
        else commands.push(command);
      }
    } catch (err) {
      if (!(err instanceof TraceSyntaxError)) throw err;
      malformed = err;
    }
    // The parser refuses every command before `vm`, so there is a replayer whenever there are commands.
    if (replayer !== undefined && commands.length > 0 && (await replay(replayer, commands)) === false) return replayer;
    if (malformed !== undefined) throw malformed;
  }
  parser.end();
  return replayer;
}

/** Replays and prints every op and dump as the spec says. */
async function replayToOutput(lines: AsyncIterable<string[]>): Promise<number> {
  keepYoungGenerationSmall();
  const output = new LineOutput();
  let malformed: Error | undefined;
  try {
    await forEachBatch(lines, async (replayer, commands) => {
      for (const command of commands) {
        if (command.kind === 'dump') {
          // A dump is as long as the VA space is full: it is written as it is formatted.
          for (const line of replayer.dumpLines()) {
            output.pending.push(line);
            if (output.chunkReady()) await output.writePending();
          }
        } else {
          replayer.execute(command, output.pending);
        }
        if (!output.chunkReady()) continue;
        await output.writePending();
        if (output.stopped) return false;
      }
    });
  } catch (err) {
    malformed = err as Error;
  }
  // What was replayed before a malformed line is written before the error is reported.
  const status = await output.end('trace');
  if (malformed !== undefined) throw malformed;
  return status;
}

/** Replays without output and prints how long the map/unmap requests took (a monotonic clock). */
async function timeTrace(lines: AsyncIterable<string[]>, json: boolean): Promise<number> {
  const timing: TraceTiming = { ns: 0n };
  const replayer = (await forEachBatch(lines, async (replay, commands) => {
    timeBatch(replay, commands, timing);
  }))!;
  const { requests, opCounts } = replayer;
  const totalMs = Number(timing.ns) / 1e6;
  const perRequest = requests === 0 ? 0 : Number(timing.ns) / requests;
  if (json) {
    writeJson({ requests, totalMs, nsPerRequest: perRequest, ops: { ...opCounts }, finalMappings: replayer.vm.vaCount });
    return 0;
  }
  process.stdout.write(`time: requests=${requests} total_ms=${totalMs.toFixed(3)} ns_per_request=${perRequest.toFixed(1)} `
    + `ops(map=${opCounts.map} remap=${opCounts.remap} unmap=${opCounts.unmap}) final_mappings=${replayer.vm.vaCount}\n`);
  return 0;
}

/** Only runs of map/unmap requests are timed, one clock reading per run; declarations and dumps are not. */
function timeBatch(replayer: TraceReplayer, commands: readonly TraceCommand[], timing: TraceTiming): void {
  let i = 0;
  while (i < commands.length) {
    let j = i;
    while (j < commands.length && isRequest(commands[j]!)) j++;
    if (j > i) {
      const t0 = process.hrtime.bigint();
      replayer.executeRange(commands, i, j, null);
      timing.ns += process.hrtime.bigint() - t0;
      i = j;
    } else {
      replayer.execute(commands[i]!, null);
      i++;
    }
  }
}

function isRequest(cmd: TraceCommand): boolean {
  return cmd.kind === 'map' || cmd.kind === 'unmap';
}
