#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// `.ci/results.mjs RUN=SUMMARY.json ...`: CI's verdict over several `npm test` runs (scripts/run-tests.mjs
// writes each summary). Every row of every run is printed under its run's name; a suite that ran in more
// than one run must have the same counts in each (the fresh clone must see exactly what the checkout sees);
// the last line is `N passed, N failed, N skipped` summed over all rows of all runs. Exits 1 on any failure,
// problem or disagreement.
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((arg) => {
  const [name, file] = arg.split('=', 2);
  let rows;
  try {
    rows = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    rows = [{ name: 'summary', label: 'summary', seconds: '0', passed: 0, failed: 1, skipped: 0, problem: `no results: ${err.message}` }];
  }
  return { name, rows };
});

let bad = false;
for (const run of runs) {
  for (const r of run.rows) {
    process.stdout.write(`${run.name}: ${r.label}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds} s)${r.problem ? `: ${r.problem}` : ''}\n`);
    if (r.failed > 0 || r.problem) bad = true;
  }
}
const counts = (r) => `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
for (const [i, a] of runs.entries()) {
  for (const b of runs.slice(i + 1)) {
    for (const ra of a.rows) {
      const rb = b.rows.find((r) => r.name === ra.name);
      if (rb === undefined) continue;
      const same = counts(ra) === counts(rb);
      process.stdout.write(`${ra.label}: ${a.name} and ${b.name} ${same ? 'agree' : `DISAGREE (${counts(ra)} against ${counts(rb)})`}\n`);
      if (!same) bad = true;
    }
  }
}
const sum = (key) => runs.flatMap((run) => run.rows).reduce((n, r) => n + r[key], 0);
process.stdout.write(`${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
process.exitCode = bad ? 1 : 0;
