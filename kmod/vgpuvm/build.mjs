#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the vgpuvm test module for a Debian sid kernel and caches it.
//
// The sid kernel is built with sid's gcc, and out-of-tree modules must be built with the same compiler and
// the exact headers of that kernel, so the build runs in a minimal sid chroot (debootstrap --variant=minbase)
// kept in the cache next to the VM runner's. Every cache entry is written under a temporary name and renamed
// into place, so an interrupted build never leaves a half-made chroot or module behind.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the module sources (this script's folder). */
export const KMOD_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

/** The files whose contents define the module; the cache key hashes them. */
export const KMOD_SOURCES = ['Kbuild', 'vgpuvm.c', 'vgpuvm_drm.h'];

/**
 * The user-space programs that drive the module inside the VM, by name, with their sources: `smoke` (the
 * bring-up test) and `replay` (replays a GPUVM trace through VM_BIND). Both are static binaries.
 */
export const TOOL_SOURCES = {
  smoke: ['smoke.c', 'vgpuvm_drm.h'],
  replay: ['replay.c', 'vgpuvm_drm.h'],
};

/** Modules to load before vgpuvm.ko in the sid kernel, in order (drm itself comes with the runner's set). */
export const VGPUVM_DEPENDENCIES = ['drm_exec', 'drm_shmem_helper', 'drm_gpuvm', 'gpu-sched'];

const MIRROR = 'http://deb.debian.org/debian';

// The sid Release file on the mirror is past its Valid-Until date; every apt-get in the chroot needs this.
const APT_OPTIONS = ['-o', 'Acquire::Check-Valid-Until=false', '-o', 'APT::Install-Recommends=false'];

/**
 * The cache folder this build uses: `$XDG_CACHE_HOME/drm-gpuvm/vgpuvm` (or `~/.cache/...`), beside the VM
 * runner's `drm-gpuvm` cache.
 * @returns {string}
 */
export function vgpuvmCacheDir() {
  // As the VM runner does: a relative XDG_CACHE_HOME is ignored (XDG Base Directory spec).
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'drm-gpuvm', 'vgpuvm');
}

/**
 * Runs a program and resolves with its stdout; when it fails, the error ends with the last lines it printed.
 * @param {string} file
 * @param {string[]} args
 * @returns {Promise<string>}
 */
function execute(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; tail = (tail + chunk).slice(-4000); });
    child.stderr.on('data', (chunk) => { tail = (tail + chunk).slice(-4000); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) { resolve(stdout); return; }
      const last = tail.trim().split('\n').slice(-20).join('\n');
      reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${last}`));
    });
  });
}

/**
 * Makes sure the cached sid chroot exists, with gcc and make; creates it (about a minute) if not.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<string>} the chroot's path
 */
export async function ensureSidChroot({ log = () => {} } = {}) {
  const cache = vgpuvmCacheDir();
  const chroot = join(cache, 'sid-chroot');
  if (existsSync(join(chroot, '.complete'))) return chroot;
  mkdirSync(cache, { recursive: true });
  if (!existsSync('/usr/sbin/debootstrap') && !existsSync('/usr/bin/debootstrap')) {
    log('vgpuvm: installing debootstrap on the host');
    await execute('apt-get', ['install', '-y', 'debootstrap']);
  }
  const staging = mkdtempSync(join(cache, 'sid-chroot.tmp-'));
  try {
    log(`vgpuvm: debootstrap --variant=minbase sid ${staging}`);
    await execute('debootstrap', ['--variant=minbase', 'sid', staging, MIRROR]);
    log('vgpuvm: apt-get update in the chroot');
    await execute('chroot', [staging, 'apt-get', ...APT_OPTIONS, 'update']);
    log('vgpuvm: installing gcc, make and libc6-dev in the chroot');
    await execute('chroot', [staging, 'apt-get', ...APT_OPTIONS, 'install', '-y', 'gcc', 'make', 'libc6-dev']);
    await execute('touch', [join(staging, '.complete')]);
    rmSync(chroot, { recursive: true, force: true });
    renameSync(staging, chroot);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return chroot;
}

/**
 * The kernel version sid's `linux-image-amd64` currently depends on (e.g. `7.2.13+deb14-amd64`), read from
 * the chroot's package lists. The VM runner resolves the kernel it boots the same way.
 * @param {string} chroot
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<string>}
 */
export async function sidKernelVersion(chroot, { log = () => {} } = {}) {
  log('vgpuvm: reading the kernel version sid has now');
  await execute('chroot', [chroot, 'apt-get', ...APT_OPTIONS, 'update']);
  const shown = await execute('chroot', [chroot, 'apt-cache', 'show', 'linux-image-amd64']);
  const depends = /^Depends:.*?linux-image-(\d[^\s,]*-amd64)/m.exec(shown);
  if (depends === null) throw new Error('vgpuvm: cannot find the kernel version in linux-image-amd64\'s Depends');
  return depends[1];
}

/**
 * Makes sure the chroot has the headers of `kernelVersion`, installing them if needed.
 * @param {string} chroot
 * @param {string} kernelVersion
 * @param {(line: string) => void} log
 * @returns {Promise<string>} the headers' path inside the chroot
 */
async function ensureHeaders(chroot, kernelVersion, log) {
  const headers = `/usr/src/linux-headers-${kernelVersion}`;
  if (existsSync(join(chroot, headers, 'Module.symvers'))) return headers;
  log(`vgpuvm: installing linux-headers-${kernelVersion} in the chroot`);
  await execute('chroot', [chroot, 'apt-get', ...APT_OPTIONS, 'update']);
  await execute('chroot', [chroot, 'apt-get', ...APT_OPTIONS, 'install', '-y', `linux-headers-${kernelVersion}`]);
  return headers;
}

/**
 * A cache key: a hash of the named files of this folder.
 * @param {string[]} names
 * @returns {string}
 */
export function sourceHash(names) {
  const hash = createHash('sha256');
  for (const name of names) {
    hash.update(name).update('\0').update(readFileSync(join(KMOD_SOURCE_DIR, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds vgpuvm.ko for a sid kernel (or returns the cached build of the same sources and kernel).
 * @param {{ kernelVersion?: string, log?: (line: string) => void }} [options] kernelVersion: the exact
 *   version the VM boots (`uname -r` there); default: the one sid's linux-image-amd64 names now.
 * @returns {Promise<{ module: string, kernelVersion: string, dependencies: string[] }>} the .ko's host path
 */
export async function buildVgpuvm({ kernelVersion, log = () => {} } = {}) {
  const chroot = await ensureSidChroot({ log });
  const version = kernelVersion ?? await sidKernelVersion(chroot, { log });
  const outDir = join(vgpuvmCacheDir(), 'modules', version, sourceHash(KMOD_SOURCES));
  const module = join(outDir, 'vgpuvm.ko');
  if (existsSync(module)) return { module, kernelVersion: version, dependencies: VGPUVM_DEPENDENCIES };

  const headers = await ensureHeaders(chroot, version, log);
  mkdirSync(join(chroot, 'build'), { recursive: true });
  const work = mkdtempSync(join(chroot, 'build', 'vgpuvm-'));
  try {
    for (const name of KMOD_SOURCES) cpSync(join(KMOD_SOURCE_DIR, name), join(work, name));
    const inside = work.slice(chroot.length);
    log(`vgpuvm: building for ${version}`);
    // objtool reads /proc; mount it in a private mount namespace so it never outlives the build.
    const make = `mount -t proc proc "$1/proc" && exec chroot "$1" make -C "$2" M="$3" modules`;
    await execute('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', make, 'sh', chroot, headers, inside]);
    mkdirSync(dirname(outDir), { recursive: true });
    const staging = mkdtempSync(`${outDir}.tmp-`);
    cpSync(join(work, 'vgpuvm.ko'), join(staging, 'vgpuvm.ko'));
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { module, kernelVersion: version, dependencies: VGPUVM_DEPENDENCIES };
}

/**
 * Where a tool built from the current sources is cached (it may not be built yet).
 * @param {'smoke' | 'replay'} name
 * @returns {string}
 */
export function toolPath(name) {
  return join(vgpuvmCacheDir(), 'tools', sourceHash(TOOL_SOURCES[name]), name);
}

/**
 * Builds a tool as a static binary with the chroot's gcc and libc (the host may lack the kernel's uapi
 * headers), or returns the cached build of the same sources.
 * @param {'smoke' | 'replay'} name
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<string>} the binary's host path
 */
export async function buildTool(name, { log = () => {} } = {}) {
  const binary = toolPath(name);
  if (existsSync(binary)) return binary;
  const chroot = await ensureSidChroot({ log });
  mkdirSync(join(chroot, 'build'), { recursive: true });
  const work = mkdtempSync(join(chroot, 'build', `${name}-`));
  try {
    for (const file of TOOL_SOURCES[name]) cpSync(join(KMOD_SOURCE_DIR, file), join(work, file));
    const inside = work.slice(chroot.length);
    log(`vgpuvm: compiling ${name}`);
    await execute('chroot', [chroot, 'gcc', '-static', '-O2', '-Wall', '-Wextra', '-Wno-missing-field-initializers', '-Werror',
      `-I${inside}`, '-o', `${inside}/${name}`, `${inside}/${name}.c`]);
    mkdirSync(dirname(dirname(binary)), { recursive: true });
    const staging = mkdtempSync(`${dirname(binary)}.tmp-`);
    cpSync(join(work, name), join(staging, name));
    rmSync(dirname(binary), { recursive: true, force: true });
    renameSync(staging, dirname(binary));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

// `node kmod/vgpuvm/build.mjs [KERNEL_VERSION]`: build (or find) the module and the tools; print their paths.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log = (line) => process.stderr.write(`${line}\n`);
  buildVgpuvm({ kernelVersion: process.argv[2], log }).then(
    async (built) => {
      const tools = [];
      for (const name of Object.keys(TOOL_SOURCES)) tools.push(await buildTool(name, { log }));
      process.stdout.write(`${[built.module, ...tools].join('\n')}\n`);
    },
    (err) => { process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; },
  );
}
