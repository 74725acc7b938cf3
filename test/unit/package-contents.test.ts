// SPDX-License-Identifier: MIT
// What `npm pack` puts in the tarball, checked against what the installed package reads: every relative
// import and `new URL(..., import.meta.url)` of the shipped JavaScript lands on a shipped file, every source
// map points at shipped sources, the addon's build inputs and the prebuild are there, no test file is, and the
// published declarations (with stripInternal) typecheck for a consumer that checks library types. Reads the
// dist/ that `npm ci` (prepare) built; `npm run build:ts` makes it afresh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeSourceFiles } from '../../scripts/native-digest.mjs';

const root = join(import.meta.dirname, '../..');
let packed: Set<string>;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');
  // --ignore-scripts: pack what dist/ holds now, without prepare rebuilding it under the running tests.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  packed = new Set(report.files.map((f) => f.path));
}, 60_000);

const packedWith = (suffix: string) => [...packed].filter((p) => p.endsWith(suffix));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Relative specifiers a shipped module resolves at run time: static and dynamic imports, file URLs. */
function relativeTargets(path: string): string[] {
  const text = read(path);
  const patterns = [/\bfrom\s+'(\.{1,2}\/[^']+)'/g, /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g, /new URL\(\s*'(\.{1,2}\/[^']*)',\s*import\.meta\.url\s*\)/g];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => posix.normalize(posix.join(posix.dirname(path), m[1]!))));
}

describe('the packed package', () => {
  it('ships no tests, benchmarks or CI files', () => {
    expect([...packed].filter((p) => /^(test|bench|\.ci)\//.test(p))).toEqual([]);
  });

  it('ships every file the shipped JavaScript imports or opens by URL', () => {
    const modules = [...packedWith('.js'), ...packedWith('.mjs')];
    expect(modules.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const module of modules) {
      for (const target of relativeTargets(module)) {
        // `new URL('..', import.meta.url)` names the package root, which is a folder, not a file.
        if (!packed.has(target) && ![...packed].some((p) => p.startsWith(`${target}/`))) missing.push(`${module} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('ships the README, the licenses and the changelog, not the contributor guide', () => {
    expect(['README.md', 'LICENSE', 'CHANGELOG.md', 'kmod/vgpuvm/LICENSE'].filter((p) => !packed.has(p))).toEqual([]);
    expect(packed.has('CONTRIBUTING.md')).toBe(false);
  });

  it('ships the CLI, the library entry points and the package.json that name them', () => {
    const manifest = JSON.parse(read('package.json')) as { bin: Record<string, string>; main: string; types: string };
    const entries = [...Object.values(manifest.bin), manifest.main, manifest.types].map((p) => posix.normalize(p));
    expect(entries.filter((p) => !packed.has(p))).toEqual([]);
    expect(packed.has('package.json')).toBe(true);
  });

  it('ships every source map with the sources it points at (no map into files left out)', () => {
    const maps = packedWith('.map');
    expect(maps.length).toBeGreaterThan(50);
    const dangling: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(read(map)) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!packed.has(target)) dangling.push(`${map} -> ${target}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  it('ships what building the addon from source needs, and the x64 prebuild', () => {
    expect(nativeSourceFiles(root).filter((p) => !packed.has(p))).toEqual([]);
    expect(packed.has('scripts/native-digest.mjs')).toBe(true);
    expect(packedWith('.node').some((p) => p.startsWith('prebuilds/linux-x64/'))).toBe(true);
  });

  it('ships declarations without @internal members that still typecheck for a consumer checking library types', () => {
    const declarations = packedWith('.d.ts');
    expect(declarations.filter((p) => read(p).includes('@internal'))).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-consumer-'));
    try {
      const consumer = join(dir, 'consumer.mts');
      writeFileSync(consumer, `import * as gpuvm from ${JSON.stringify(join(root, 'dist/index.js'))};\nexport const api: typeof gpuvm = gpuvm;\n`);
      const program = ts.createProgram([consumer], {
        module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'], strict: true, noEmit: true, skipLibCheck: false,
        types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
      });
      const errors = ts.getPreEmitDiagnostics(program).map((d) =>
        `${d.file ? posix.relative(root, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
