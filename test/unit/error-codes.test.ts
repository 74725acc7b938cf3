// SPDX-License-Identifier: MIT
// The README's table of error codes lists exactly the codes the package throws: every ERR_* (and
// ABORT_ERR) string in lib/ and native/ has a row, and every row names a code that still exists.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CODE = /['"]((?:ERR_[A-Z0-9_]+)|ABORT_ERR)['"]/g;

function sourceFiles(dir: string, extensions: readonly string[]): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => extensions.some((ext) => file.endsWith(ext)))
    .map((file) => join(ROOT, dir, file));
}

function thrownCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of [...sourceFiles('lib', ['.ts']), ...sourceFiles('native', ['.cc', '.h'])]) {
    for (const match of readFileSync(file, 'utf8').matchAll(CODE)) codes.add(match[1]!);
  }
  return codes;
}

function tableCodes(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Error codes\n');
  expect(start, 'README.md has an "Error codes" section').toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!)));
}

describe("README's error code table", () => {
  const thrown = thrownCodes();
  const listed = tableCodes();

  it('has a row for every code the package throws (add one to README.md "Error codes")', () => {
    expect([...thrown].filter((code) => !listed.has(code)).sort()).toEqual([]);
  });

  it('lists no code that nothing throws any more', () => {
    expect([...listed].filter((code) => !thrown.has(code)).sort()).toEqual([]);
  });
});
