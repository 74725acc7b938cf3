// SPDX-License-Identifier: MIT
// drm-gpuvm map --svg [FILE] [-o OUT] [--width PX] [--title TEXT]: draws the VA space as SVG, after
// replaying a trace, or straight from a dump (`va` lines, e.g. the output of `drm-gpuvm trace`). Reading
// the input is lib/va-map/va-map-input.ts, drawing is lib/va-map/va-map-svg.ts; this file wires them. The
// input is read line by line: a trace is replayed as it comes, a dump keeps only its current block.
import { writeFileSync } from 'node:fs';
import { TraceParser, TraceReplayer, TraceSyntaxError } from '../trace/trace.js';
import { isVaDumpLine, vaMapInputFromGpuVm, VaDumpReader, VaDumpSyntaxError } from '../va-map/va-map-input.js';
import { renderVaMapSvg, VaMapInputError, type VaMapInput } from '../va-map/va-map-svg.js';
import { runCommand, UsageError, wholeNumber } from './command-line.js';
import { CliInputError, openCliInput } from './read-input.js';
import { keepYoungGenerationSmall } from './young-generation.js';

const USAGE = 'usage: drm-gpuvm map --svg [FILE] [-o OUT] [--width PX] [--title TEXT]\n' +
  '  FILE: a trace (replayed) or a dump (va lines); standard input when absent or -\n' +
  '  -o, --output OUT: write the SVG to OUT instead of standard output\n' +
  '  --width PX: picture width, 600 to 4800 (default 1200)\n' +
  '  --title TEXT: the picture\'s title\n';

const SPEC = {
  name: 'map',
  usage: USAGE,
  operand: 'FILE',
  options: { svg: { type: 'boolean' }, output: { type: 'string', short: 'o' }, width: { type: 'string' }, title: { type: 'string' } },
} as const;

/** Runs the subcommand; returns the exit status (0, or 2 for bad usage or unreadable input). */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, async ({ values, operand }) => {
    if (values.svg !== true) throw new UsageError('choose the output format: --svg (the only one)');
    const width = values.width === undefined ? undefined : wholeNumber('width', values.width, { min: 600, max: 4800 });
    let name = operand ?? 'stdin';
    let picture: string;
    try {
      const source = openCliInput(operand);
      name = source.name;
      keepYoungGenerationSmall();
      let input = await readVaMapInput(source.lines);
      if (values.title !== undefined) input = { ...input, title: values.title };
      picture = renderVaMapSvg(input, width === undefined ? {} : { width });
    } catch (err) {
      if (err instanceof CliInputError) {
        process.stderr.write(`drm-gpuvm map: ${err.message}\n`);
        return 2;
      }
      if (!(err instanceof TraceSyntaxError || err instanceof VaDumpSyntaxError || err instanceof VaMapInputError)) throw err;
      process.stderr.write(`drm-gpuvm map: ${name}: ${err.message}\n`);
      return 2;
    }
    if (values.output === undefined) {
      await new Promise<void>((resolve, reject) => process.stdout.write(picture, (err) => (err ? reject(err) : resolve())));
      return 0;
    }
    try {
      writeFileSync(values.output, picture);
    } catch (err) {
      process.stderr.write(`drm-gpuvm map: cannot write ${values.output}: ${(err as Error).message}\n`);
      return 1;
    }
    return 0;
  });
}

/**
 * The VA space the input describes. Whether it is a dump is known only once a `va` line appears, so each
 * line goes both to a dump reader and to a trace replay (refused requests change nothing, as in `drm-gpuvm
 * trace`) until then; each side stops at its first error, which counts only if the input turns out to be
 * of its kind.
 */
async function readVaMapInput(lines: AsyncIterable<string[]>): Promise<VaMapInput> {
  const dump = new VaDumpReader();
  const trace = new TraceParser();
  let replayer: TraceReplayer | undefined;
  let dumpError: VaDumpSyntaxError | undefined;
  let traceError: TraceSyntaxError | undefined;
  let isDump = false;
  for await (const batch of lines) {
    for (const text of batch) {
      isDump ||= isVaDumpLine(text);
      if (dumpError === undefined) {
        try {
          dump.next(text);
        } catch (err) {
          if (!(err instanceof VaDumpSyntaxError)) throw err;
          dumpError = err;
        }
      }
      if (isDump || traceError !== undefined) continue;
      try {
        const command = trace.next(text);
        if (command?.kind === 'vm') replayer = new TraceReplayer(command);
        else if (command !== null) replayer!.execute(command, null);
      } catch (err) {
        if (!(err instanceof TraceSyntaxError)) throw err;
        traceError = err;
      }
    }
  }
  if (isDump) {
    if (dumpError !== undefined) throw dumpError;
    return dump.end();
  }
  if (traceError !== undefined) throw traceError;
  trace.end();
  return vaMapInputFromGpuVm(replayer!.vm, 'VA space after the trace');
}
