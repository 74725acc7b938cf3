// SPDX-License-Identifier: MIT
// One fuzz batch, in a process of its own: `node --expose-gc child.mjs '<config json>'`. Before each call it
// appends the call's line to the log (written straight to the fd, so it survives a crash and names the
// call that crashed), then what the call made (a new object's label and the memory it shows) or, when
// refused, the error's code. Errors are expected; an error without a `code` is a finding ('untyped'), as
// is any byte that differs from its tag ('wrong-memory'). At the end it closes everything, collects garbage
// and checks that the fd count and the addon's native records (mappings, waits, VA windows, views, fds) are
// back where they started. Its last stdout line is `FUZZ-RESULT {json}`.
import { closeSync, openSync, readdirSync, readlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiCalls } from './api-calls.mjs';
import { describeCall, describeValue } from './describe.mjs';
import { nativeCalls } from './native-calls.mjs';
import { fdKinds, rng, Sentinel, values } from './values.mjs';

const config = JSON.parse(process.argv[2]);
const root = new URL('../../', import.meta.url);
const api = await import(new URL('dist/index.js', root).href);
const { native } = await import(new URL('dist/native.js', root).href);
const binding = native();

const log = openSync(config.log, 'w');
const fdCount = () => readdirSync('/proc/self/fd').length;
const counts = () => ({ fds: fdCount(), ...Object.fromEntries(Object.entries(binding.nativeRecords()).map(([key, n]) => [`native ${key}`, n])) });
const same = (a, b) => Object.keys(a).every((key) => a[key] === b[key]);

const r = rng(config.seed);
const classes = new Set(config.classes);
const findings = [];
let findingCount = 0;
const failure = (kind, detail) => { findingCount++; if (findings.length < 20) findings.push({ kind, call: current, detail }); };
let current = '';
let sabotage = () => undefined;
const sizes = [4096, 8192, 12288, 16384, 65536, 1 << 20, 4095, 1];
const v = values(r, { sizes, sabotage: () => sabotage(), reentrant: classes.has('reentrant') });
const fds = fdKinds();
const ctx = { r, v, fds, classes, failure, sizes, only: config.only, drmPaths: config.drmPaths ?? [], setSabotage: (fn) => { sabotage = fn; }, sabotage: () => sabotage() };
const calls = config.kind === 'native' ? nativeCalls(binding, ctx) : apiCalls(api, ctx);
// Measured once the batch's own fds (the log, the fd kinds) are open: what the calls leave is the difference.
const start = counts();

const errorCodes = new Map();
let errors = 0;
let untyped = 0;
for (let i = 0; i < config.calls; i++) {
  const call = calls.next();
  current = describeCall(call.name, call.args);
  writeSync(log, `${i} ${current}\n`);
  try {
    const made = call.run();
    if (typeof made === 'object' && made !== null) writeSync(log, `  made: ${describeValue(made)}${calls.memoryOf?.(made) ?? ''}\n`);
  } catch (error) {
    errors++;
    const code = error instanceof Sentinel ? 'sentinel' : typeof error?.code === 'string' ? error.code : typeof error?.errno === 'number' ? `errno ${error.errno}` : null;
    writeSync(log, `  refused: ${code ?? 'untyped'}\n`);
    if (code === null) {
      untyped++;
      failure('untyped', `${error?.name}: ${String(error?.message).slice(0, 200)}`);
    } else {
      errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
    }
  }
  // Let wait callbacks and finalizers run now and then, as an event loop would.
  if (i % 2000 === 1999) {
    if (classes.has('gc') && r.chance(0.3)) globalThis.gc();
    await new Promise(setImmediate);
  }
}
current = 'cleanup';
writeSync(log, 'cleanup\n');
const { dropped } = await calls.closeAll();
// Dropped objects are released by finalizers, which run after a collection and a turn of the loop.
let end = counts();
for (let i = 0; i < 50 && !same(start, end); i++) {
  globalThis.gc();
  await sleep(20);
  end = counts();
}
if (end.fds !== start.fds) failure('leak', `open fds: ${readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return '?'; } }).join(' ')}`);
for (const key of Object.keys(start)) {
  if (end[key] !== start[key]) failure('leak', `${key}: ${start[key]} at the start, ${end[key]} at the end`);
}
fds.close();
writeSync(log, 'done\n');
closeSync(log);
const result = { seed: config.seed, kind: config.kind, calls: config.calls, errors, untyped, dropped, findingCount, start, end, findings, codes: Object.fromEntries([...errorCodes].sort((a, b) => b[1] - a[1]).slice(0, 12)) };
process.stdout.write(`FUZZ-RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
