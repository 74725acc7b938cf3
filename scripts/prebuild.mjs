#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// `npm run prebuild`: builds the committed prebuilds (prebuilds/linux-x64 and prebuilds/linux-arm64, glibc)
// from the addon's sources alone, in a fresh directory (no build/ left over from a local build), with the
// node headers of the Node running this script (no download), cross-compiling for the other architecture
// with Debian's g++-<triplet> toolchain. Each binary carries the source digest (scripts/native-digest.mjs).
//
//   node scripts/prebuild.mjs [--arch x64|arm64]...   build and write prebuilds/ (default: every arch)
//   node scripts/prebuild.mjs --check                  build into a temporary folder and compare with the
//                                                      committed binaries; exit 1 when one is stale
//
// --check is what CI runs: the committed binary's embedded digest must equal the digest of the sources, and
// its bytes those of the fresh build (the build is reproducible: same sources and toolchain, same bytes,
// whatever the build folder), so neither a stale nor a hand-edited prebuild can land. After a toolchain
// update the bytes differ with the same digest: run npm run prebuild and commit prebuilds/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nativeSourceDigest, nativeSourceFiles } from './native-digest.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const BINARY_NAME = 'drm-gpuvm.glibc.node';

/** What building for one architecture takes: node-gyp's --arch and the GNU triplet of its toolchain. */
export const TARGETS = {
  x64: { triplet: 'x86_64-linux-gnu', debianPackage: 'g++-x86-64-linux-gnu' },
  arm64: { triplet: 'aarch64-linux-gnu', debianPackage: 'g++-aarch64-linux-gnu' },
};

/** Where the committed prebuild of an architecture lives. */
export function prebuildPath(arch, base = root) {
  return join(base, 'prebuilds', `linux-${arch}`, BINARY_NAME);
}

/**
 * The source digest baked into an addon binary of any architecture, read from its bytes: the one
 * NUL-terminated run of 64 lowercase hex digits (binding.cc exports it as sourceDigest). Undefined when
 * there is none, or more than one (then the binary is not one of ours).
 */
export function embeddedDigest(binary) {
  const found = new Set(binary.toString('latin1').match(/(?<=\0)[0-9a-f]{64}(?=\0)/g) ?? []);
  return found.size === 1 ? [...found][0] : undefined;
}

/** The highest GLIBC_x.y symbol version an ELF file needs, from objdump -T; undefined when it needs none. */
export function maxGlibcVersion(file, objdump) {
  const out = run(objdump, ['-T', file], { capture: true });
  const versions = [...new Set(out.match(/GLIBC_\d+(\.\d+)+/g) ?? [])].map((v) => v.slice('GLIBC_'.length));
  versions.sort((a, b) => compareVersions(b, a));
  return versions[0];
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The toolchain for `arch`: the plain tools when it is the host's own architecture, else the triplet's. */
function toolchain(arch) {
  const target = TARGETS[arch];
  const prefix = arch === process.arch ? '' : `${target.triplet}-`;
  const tools = { CC: `${prefix}gcc`, CXX: `${prefix}g++`, AR: `${prefix}ar`, STRIP: `${prefix}strip`, OBJDUMP: `${prefix}objdump` };
  const missing = Object.values(tools).filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0) {
    const pkg = arch === process.arch ? 'g++' : target.debianPackage;
    fail(`building for linux-${arch} needs ${missing.join(', ')}: apt-get install ${pkg}`);
  }
  return tools;
}

/** The node headers of the running Node (include/node beside its bin/), as node-gyp's --nodedir. */
function nodeDir() {
  const dir = dirname(dirname(process.execPath));
  if (!existsSync(join(dir, 'include', 'node', 'node_api.h'))) {
    fail(`no node headers at ${join(dir, 'include', 'node')}: install them with this Node (Debian: libnode-dev or nodejs's own headers)`);
  }
  return dir;
}

/**
 * Builds the addon for `arch` in a fresh directory holding only what the digest covers, the digest script
 * binding.gyp runs, and node_modules (for node-addon-api). Returns the path of the stripped binary.
 */
function build(arch, workDir) {
  const tools = toolchain(arch);
  const tree = join(workDir, `tree-${arch}`);
  for (const file of [...nativeSourceFiles(root), 'scripts/native-digest.mjs']) {
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    copyFileSync(join(root, file), join(tree, file));
  }
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  process.stdout.write(`prebuild: linux-${arch}: node-gyp rebuild with ${tools.CXX}\n`);
  run(process.execPath, [nodeGyp, 'rebuild', `--arch=${arch}`, `--nodedir=${nodeDir()}`, '--jobs=2'], {
    cwd: tree,
    // The _host tools build nothing here (the addon has no host-side helpers) but gyp wants them set.
    env: { ...process.env, ...tools, LINK: tools.CXX, CC_host: 'gcc', CXX_host: 'g++' },
  });
  const binary = join(tree, 'build', 'Release', 'drm-gpuvm.node');
  run(tools.STRIP, ['--strip-all', binary]);
  return { binary, objdump: tools.OBJDUMP };
}

function run(command, args, { cwd = root, env = process.env, capture = false } = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'inherit'] : ['ignore', 'inherit', 'inherit'] });
  if (result.error !== undefined) fail(`${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return result.stdout ?? '';
}

function fail(message) {
  process.stderr.write(`prebuild: ${message}\n`);
  process.exit(1);
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function main() {
  const { values } = parseArgs({ options: { arch: { type: 'string', multiple: true }, check: { type: 'boolean', default: false } } });
  const arches = values.arch ?? Object.keys(TARGETS);
  for (const arch of arches) if (!(arch in TARGETS)) fail(`unknown --arch '${arch}' (one of ${Object.keys(TARGETS).join(', ')})`);
  const sources = nativeSourceDigest(root);
  const dirty = spawnSync('git', ['status', '--porcelain', '--', ...nativeSourceFiles(root)], { cwd: root, encoding: 'utf8' }).stdout?.trim();
  if (dirty) process.stdout.write(`prebuild: note: uncommitted changes in the addon sources are built too:\n${dirty}\n`);

  const workDir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-prebuild-'));
  let stale = 0;
  try {
    for (const arch of arches) {
      const { binary, objdump } = build(arch, workDir);
      const fresh = readFileSync(binary);
      const glibc = maxGlibcVersion(binary, objdump);
      const freshDigest = embeddedDigest(fresh);
      if (freshDigest !== sources) fail(`linux-${arch}: the fresh build carries digest ${freshDigest}, the sources ${sources}`);
      const committed = prebuildPath(arch);
      const label = relative(root, committed);
      if (!values.check) {
        mkdirSync(dirname(committed), { recursive: true });
        copyFileSync(binary, committed);
        process.stdout.write(`prebuild: wrote ${label}: ${fresh.length} bytes, sha256 ${sha256(fresh)}, digest ${sources}, needs glibc ${glibc}+\n`);
        continue;
      }
      if (!existsSync(committed)) {
        process.stdout.write(`prebuild: STALE ${label}: missing (run npm run prebuild and commit prebuilds/)\n`);
        stale++;
        continue;
      }
      const old = readFileSync(committed);
      const oldDigest = embeddedDigest(old);
      if (oldDigest !== sources) {
        process.stdout.write(`prebuild: STALE ${label}: carries digest ${oldDigest ?? 'none'}, the sources have ${sources} (run npm run prebuild and commit prebuilds/)\n`);
        stale++;
        continue;
      }
      if (!old.equals(fresh)) {
        process.stdout.write(
          `prebuild: STALE ${label}: the digest matches but the bytes differ from the fresh build (sha256 ${sha256(old)}, fresh ${sha256(fresh)}): ` +
            'edited by hand, or made with another toolchain (run npm run prebuild and commit prebuilds/)\n',
        );
        stale++;
        continue;
      }
      process.stdout.write(`prebuild: ok ${label}: digest ${sources}, byte-identical to the fresh build, needs glibc ${glibc}+\n`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  if (stale > 0) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
