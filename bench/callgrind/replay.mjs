// SPDX-License-Identifier: MIT
// The replay of a trace for instruction counting: parses FILE in batches of 4,096 lines as `drm-gpuvm trace`
// does and, in `replay` mode, replays each batch; in `parse` mode it only parses. Under callgrind, the
// replay's own instructions are (replay - parse) on a long trace minus the same on a shorter one with the
// same seed (its first requests are the same): start-up, parsing and JIT compilation cancel out.
//
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=OUT \
//     node --single-threaded --perf-basic-prof bench/callgrind/replay.mjs FILE replay|parse [--root DIR]
//
// --perf-basic-prof makes V8 write /tmp/perf-PID.map, which bench/callgrind/functions.py uses to name JIT
// code. --root replays through another checkout's dist/ (an A/B between builds).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { root: { type: 'string', default: fileURLToPath(new URL('../..', import.meta.url)) } },
});
const [file, mode] = positionals;
if (file === undefined || (mode !== 'replay' && mode !== 'parse')) {
  process.stderr.write('usage: node bench/callgrind/replay.mjs FILE replay|parse [--root DIR]\n');
  process.exit(2);
}
const { TraceParser, TraceReplayer } = await import(join(values.root, 'dist', 'trace', 'trace.js'));
const lines = readFileSync(file, 'utf8').split('\n');
const parser = new TraceParser();
let replayer;
const commands = [];
for (let at = 0; at < lines.length; at += 4096) {
  commands.length = 0;
  for (const text of lines.slice(at, at + 4096)) {
    const command = parser.next(text);
    if (command === null) continue;
    if (command.kind === 'vm') replayer = new TraceReplayer(command);
    else commands.push(command);
  }
  if (mode === 'replay') replayer.executeRange(commands, 0, commands.length, null);
}
process.stdout.write(`${mode}: ${replayer.requests} requests replayed, ${replayer.vm.vaCount} mappings\n`);
