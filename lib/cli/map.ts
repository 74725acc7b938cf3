// SPDX-License-Identifier: MIT
// drm-gpuvm map --svg [FILE] [-o OUT] [--width PX] [--title TEXT]: draws the VA space as SVG, after
// replaying a trace, or straight from a dump (`va` lines, e.g. the output of `drm-gpuvm trace`). Reading
// the input is lib/va-map/va-map-input.ts, drawing is lib/va-map/va-map-svg.ts; this file wires them.
import { writeFileSync } from 'node:fs';
import { parseTrace, TraceReplayer, TraceSyntaxError, type TraceCommand } from '../trace/trace.js';
import { isVaDump, parseVaDump, vaMapInputFromGpuVm, VaDumpSyntaxError } from '../va-map/va-map-input.js';
import { renderVaMapSvg, VaMapInputError, type VaMapInput } from '../va-map/va-map-svg.js';
import { readCliInput } from './read-input.js';

const USAGE = 'usage: drm-gpuvm map --svg [FILE] [-o OUT] [--width PX] [--title TEXT]\n' +
  '  FILE: a trace (replayed) or a dump (va lines); standard input when absent or -\n' +
  '  -o OUT: write the SVG to OUT instead of standard output\n' +
  '  --width PX: picture width, 600 to 4800 (default 1200)\n';

/** Runs the subcommand; returns the exit status (0, or 2 for bad usage or unreadable input). */
export async function run(argv: string[]): Promise<number> {
  let svg = false;
  let file: string | undefined;
  let out: string | undefined;
  let width: number | undefined;
  let title: string | undefined;
  const fail = (message: string) => {
    process.stderr.write(`drm-gpuvm map: ${message}\n${USAGE}`);
    return 2;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg === '--svg') {
      svg = true;
    } else if (arg === '-o' || arg === '--width' || arg === '--title') {
      const value = argv[++i];
      if (value === undefined) return fail(`${arg} needs a value`);
      if (arg === '-o') out = value;
      else if (arg === '--title') title = value;
      else if (!/^[0-9]+$/.test(value) || Number(value) < 600 || Number(value) > 4800) return fail(`--width must be an integer from 600 to 4800, got '${value}'`);
      else width = Number(value);
    } else if (arg.startsWith('-') && arg !== '-') {
      return fail(`unknown option '${arg}'`);
    } else if (file === undefined) {
      file = arg;
    } else {
      return fail('more than one FILE');
    }
  }
  if (!svg) return fail('choose the output format: --svg (the only one)');

  const source = readCliInput('map', file);
  if (source === undefined) return 2;
  const { name, text } = source;

  let input: VaMapInput;
  let picture: string;
  try {
    input = isVaDump(text) ? parseVaDump(text) : replay(text);
    if (title !== undefined) input = { ...input, title };
    picture = renderVaMapSvg(input, width === undefined ? {} : { width });
  } catch (err) {
    if (!(err instanceof TraceSyntaxError || err instanceof VaDumpSyntaxError || err instanceof VaMapInputError)) throw err;
    process.stderr.write(`drm-gpuvm map: ${name}: ${err.message}\n`);
    return 2;
  }

  if (out === undefined) {
    await new Promise<void>((resolve, reject) => process.stdout.write(picture, (err) => (err ? reject(err) : resolve())));
    return 0;
  }
  try {
    writeFileSync(out, picture);
  } catch (err) {
    process.stderr.write(`drm-gpuvm map: cannot write ${out}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}

/** Replays a trace (refused requests change nothing, as in `drm-gpuvm trace`) and returns the final VA space. */
function replay(text: string): VaMapInput {
  const commands = parseTrace(text);
  const replayer = new TraceReplayer(commands[0] as Extract<TraceCommand, { kind: 'vm' }>);
  replayer.executeRange(commands, 1, commands.length, null);
  return vaMapInputFromGpuVm(replayer.vm, 'VA space after the trace');
}
