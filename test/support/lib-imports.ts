// SPDX-License-Identifier: MIT
// The imports of every file under lib/, read as text: what the import-rule tests check. A specifier is
// resolved to a path relative to the repository ('lib/native.ts'), or kept as written for a package.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const LIB = join(ROOT, 'lib');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every .ts file under lib/, as absolute paths. */
export function libFiles(): string[] {
  return readdirSync(LIB, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(LIB, f));
}

/** The specifiers `file` imports or re-exports from, static and dynamic, as written. */
export function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2]!);
}

/** What a specifier of `file` names, relative to the repository ('lib/native.ts'), or the package name as written. */
export function target(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(ROOT, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts');
}
