// SPDX-License-Identifier: MIT
// Summarises a V8 CPU profile (node --cpu-prof) as the functions with the most self time, with their
// share of the samples taken inside `under` (a function name; the whole profile when absent), and the
// share of garbage collection. Used for the profiles in bench/results/gpuvm-vs-kernel.md:
//   node --cpu-prof --cpu-prof-dir=DIR dist/cli/main.js trace --time FILE
//   node bench/cpu-profile-summary.mjs DIR/*.cpuprofile [--under executeRange] [--top 15]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { under: { type: 'string' }, top: { type: 'string', default: '15' } },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/cpu-profile-summary.mjs FILE.cpuprofile [--under FUNCTION] [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Samples per node, then per node whether it lies under a frame named `under`. GC samples have no
// JS caller in the profile, so they are counted apart and reported against the whole profile.
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const inside = (id) => {
  if (values.under === undefined) return true;
  for (let at = id; at !== undefined; at = parent.get(at)) if (byId.get(at).callFrame.functionName === values.under) return true;
  return false;
};
let total = 0;
let all = 0;
let gc = 0;
const self = new Map();
for (const [id, count] of hits) {
  const frame = byId.get(id).callFrame;
  all += count;
  if (frame.functionName === '(garbage collector)') gc += count;
  if (!inside(id)) continue;
  total += count;
  const url = frame.url.replace(/^.*\/(dist|lib|node_modules)\//, '$1/');
  const key = `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + count);
}
const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`;
process.stdout.write(`${total} samples${values.under === undefined ? '' : ` under ${values.under}`} of ${all}; ` +
  `garbage collector ${pct(gc, all)} of all samples\n`);
for (const [key, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  process.stdout.write(`${pct(count, total).padStart(6)}  ${key}\n`);
}
