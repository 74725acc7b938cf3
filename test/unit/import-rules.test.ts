// SPDX-License-Identifier: MIT
// The layering of lib/ as docs/ARCHITECTURE.md states it: the table there says which folder may import
// which, this test reads the table and checks every import of every file under lib/ against it, so the
// document and the code cannot drift apart. lib/gpuvm (the pure model) imports no node: module either.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, LIB, libFiles, ROOT, target } from '../support/lib-imports.js';

const START = '<!-- import-rules:';
const END = '<!-- end of import-rules -->';

/** The table's rows: folder (or top-level file) -> what it may import. */
function rules(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const table = doc.slice(doc.indexOf(START), doc.indexOf(END));
  const rows = table.split('\n').filter((line) => line.startsWith('|')).slice(2);
  return new Map(rows.map((row) => {
    const [room, allowed] = row.split('|').slice(1, 3).map((cell) => cell.trim());
    return [room!, new Set(allowed!.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
  }));
}

/** The folder directly under lib/ a path lies in, or its file name for a file at the top of lib/. */
function roomOf(repoPath: string): string {
  return relative('lib', repoPath).split('/')[0]!;
}

describe('the import rules of docs/ARCHITECTURE.md', () => {
  const table = rules();
  const files = libFiles();

  it('lists every folder and top-level file of lib/ (the table is complete and the check not vacuous)', () => {
    const rooms = new Set(files.map((f) => roomOf(relative(ROOT, f))).filter((room) => room !== 'node-gyp-build.d.ts'));
    expect([...rooms].sort()).toEqual([...table.keys()].sort());
    expect(table.get('drm')).toContain('native.ts');
  });

  it('no file under lib/ imports a folder its row does not list', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const from = relative(ROOT, file);
      const room = roomOf(from);
      const allowed = table.get(room);
      if (allowed === undefined) continue;
      for (const specifier of importsOf(file)) {
        const to = target(file, specifier);
        if (!to.startsWith('lib/')) continue;
        const other = roomOf(to);
        if (other !== room && !allowed.has(other)) offenders.push(`${from} imports ${specifier} (${room} may not import ${other})`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('lib/gpuvm imports no node: module and no package: the model does no I/O', () => {
    const offenders = files.filter((f) => f.startsWith(join(LIB, 'gpuvm')))
      .flatMap((f) => importsOf(f).filter((s) => !s.startsWith('.')).map((s) => `${relative(ROOT, f)} imports ${s}`));
    expect(offenders).toEqual([]);
  });
});
