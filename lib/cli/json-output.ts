// SPDX-License-Identifier: MIT
// What `--json` prints, for every subcommand that has it: one JSON object per run, on one line of standard
// output, 64-bit values (bigint) as decimal strings since JSON numbers lose precision past 2^53.

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Writes `result` as one line of JSON on standard output. */
export function writeJson(result: object): void {
  process.stdout.write(`${JSON.stringify(result, jsonValue)}\n`);
}
