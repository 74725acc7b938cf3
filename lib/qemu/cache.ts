// SPDX-License-Identifier: MIT
// The runner's cache: fetched kernels and built initramfs images under the XDG cache directory. Every entry
// is built in a temporary sibling and renamed into place, so a reader sees a whole entry or none.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** What kernel.json in a cached kernel directory records. */
export interface KernelRecord {
  /** The Debian suite it came from. */
  suite: string;
  /** The guest architecture (absent in entries made before arm64 guests: x64). */
  arch?: string;
  /** `uname -r` of the kernel, i.e. the modules directory name. */
  release: string;
  /** Debian version of the kernel packages. */
  packageVersion: string;
  /** Packages downloaded, as name=version. */
  packages: string[];
  /** ISO date of the download. */
  fetchedAt: string;
}

/** One cached kernel as `--status` reports it. */
export interface CachedKernel extends KernelRecord {
  path: string;
  bytes: number;
}

/** Everything `--status` reports. */
export interface CacheStatus {
  root: string;
  kernels: CachedKernel[];
  initramfs: { count: number; bytes: number };
  /** Uncompressed kernels, booted instead of the bzImage under TCG (see vmlinux.ts). */
  vmlinux: { count: number; bytes: number };
  /** Userland roots of arm64 guests (see guest-root.ts). */
  roots: { count: number; bytes: number };
  totalBytes: number;
}

const TEMP_PREFIX = '.tmp-';
// A temporary entry this old belongs to a run that was killed; nothing else would still be writing it.
const STALE_TEMP_MS = 6 * 3600 * 1000;

/** The cache root: $XDG_CACHE_HOME/drm-gpuvm/vm, or ~/.cache/drm-gpuvm/vm (relative XDG paths are ignored, per spec). */
export function cacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(env['HOME'] ?? homedir(), '.cache');
  return join(base, 'drm-gpuvm', 'vm');
}

/** Directory of a cached Debian kernel: the suite's name, with `-arm64` for arm64 ones. */
export function kernelDir(root: string, suite: string, arch = 'x64'): string {
  return join(root, 'kernels', arch === 'x64' ? suite : `${suite}-${arch}`);
}

/** Directory of guest userland roots (for guests that cannot run the host's userland). */
export function guestRootsDir(root: string): string {
  return join(root, 'roots');
}

/** Directory of uncompressed kernel images. */
export function vmlinuxDir(root: string): string {
  return join(root, 'vmlinux');
}

/** Directory of built initramfs images. */
export function initramfsDir(root: string): string {
  return join(root, 'initramfs');
}

/**
 * Builds a directory entry atomically: `build` fills a fresh temporary sibling, which is then renamed to
 * `finalPath`. If another process finished the same entry first, its copy is kept and ours discarded. On
 * failure the temporary directory is removed.
 */
export async function buildDirAtomically(finalPath: string, build: (tempDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(finalPath);
  mkdirSync(parent, { recursive: true });
  removeStaleTemps(parent);
  const temp = mkdtempSync(join(parent, `${TEMP_PREFIX}${basename(finalPath)}-`));
  try {
    await build(temp);
    try {
      renameSync(temp, finalPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      rmSync(temp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

/** Writes a file atomically: a temporary sibling, then rename over the final name. */
export function writeFileAtomically(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Reads a cached kernel's record, or undefined when the kernel is not cached (or the entry is unreadable). */
export function readKernelRecord(dir: string): KernelRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as KernelRecord;
  } catch {
    return undefined;
  }
}

/** Reports what the cache holds; an absent cache is an empty one. */
export function cacheStatus(root: string): CacheStatus {
  const kernels: CachedKernel[] = [];
  for (const name of listDir(join(root, 'kernels'))) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const path = kernelDir(root, name);
    const record = readKernelRecord(path);
    if (record !== undefined) kernels.push({ ...record, path, bytes: diskUsage(path) });
  }
  const images = listDir(initramfsDir(root)).filter((n) => n.endsWith('.cpio'));
  const initramfs = { count: images.length, bytes: diskUsage(initramfsDir(root)) };
  const elves = listDir(vmlinuxDir(root)).filter((n) => n.endsWith('.elf'));
  const vmlinux = { count: elves.length, bytes: diskUsage(vmlinuxDir(root)) };
  const rootNames = listDir(guestRootsDir(root)).filter((n) => !n.startsWith(TEMP_PREFIX));
  const roots = { count: rootNames.length, bytes: diskUsage(guestRootsDir(root)) };
  const totalBytes = kernels.reduce((n, k) => n + k.bytes, 0) + initramfs.bytes + vmlinux.bytes + roots.bytes;
  return { root, kernels, initramfs, vmlinux, roots, totalBytes };
}

/** Human-readable form of cacheStatus. */
export function formatCacheStatus(status: CacheStatus): string {
  const lines = [`cache: ${status.root}`];
  if (status.kernels.length === 0) lines.push('kernels: none cached (the first run of a kernel downloads it)');
  for (const k of status.kernels) {
    lines.push(`kernel ${k.suite}${k.arch !== undefined && k.arch !== 'x64' ? ` (${k.arch})` : ''}: Linux ${k.release} (Debian ${k.packageVersion}), ${formatBytes(k.bytes)}, fetched ${k.fetchedAt}`);
  }
  lines.push(`initramfs images: ${status.initramfs.count}, ${formatBytes(status.initramfs.bytes)}`);
  lines.push(`uncompressed kernels: ${status.vmlinux.count}, ${formatBytes(status.vmlinux.bytes)}`);
  lines.push(`arm64 userland roots: ${status.roots.count}, ${formatBytes(status.roots.bytes)}`);
  lines.push(`total: ${formatBytes(status.totalBytes)}`);
  return lines.join('\n') + '\n';
}

/** Bytes as "12.3 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function diskUsage(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + diskUsage(join(path, name)), 0);
}

function removeStaleTemps(parent: string): void {
  for (const name of listDir(parent)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(parent, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st !== undefined && Date.now() - st.mtimeMs > STALE_TEMP_MS) rmSync(path, { recursive: true, force: true });
  }
}
