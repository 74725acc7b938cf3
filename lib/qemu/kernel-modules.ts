// SPDX-License-Identifier: MIT
// Which kernel modules go into the initramfs, and in what order the guest loads them: each requested module
// after everything its .modinfo says it depends on, as modprobe would do with depmod's modules.dep.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VmRunnerError } from './errors.js';
import { readModInfo, type ModInfo } from './modinfo.js';

/** Module name (dashes folded to underscores, as the kernel does) -> path of its .ko file. */
export type ModuleIndex = ReadonlyMap<string, string>;

/** A module placed in the initramfs: its name, where it came from, its uncompressed bytes. */
export interface ResolvedModule {
  name: string;
  source: string;
  data: Buffer;
}

const MODULE_FILE = /\.ko(\.xz|\.zst|\.gz)?$/;

/** The kernel's own spelling of a module name: `9pnet-virtio` and `9pnet_virtio` are the same module. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Lists every module file under a modules tree (`lib/modules/VERSION`), keyed by module name. */
export function indexModules(modulesDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (MODULE_FILE.test(entry.name)) index.set(normalizeModuleName(entry.name.replace(MODULE_FILE, '')), path);
    }
  };
  for (const top of ['kernel', 'updates', 'extra']) {
    try {
      walk(join(modulesDir, top));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return index;
}

/** Reads a module file without its signature, decompressing .xz and .zst with the host's xz / zstd (busybox insmod wants plain ELF). */
export function readModuleFile(path: string): Buffer {
  if (path.endsWith('.xz')) return stripModuleSignature(execFileSync('xz', ['-dc', '--', path], { maxBuffer: 1 << 30 }));
  if (path.endsWith('.zst')) return stripModuleSignature(execFileSync('zstd', ['-dcq', '--', path], { maxBuffer: 1 << 30 }));
  if (path.endsWith('.gz')) return stripModuleSignature(gunzipSync(readFileSync(path)));
  return stripModuleSignature(readFileSync(path));
}

const SIGNATURE_MAGIC = Buffer.from('~Module signature appended~\n');

/**
 * Drops the signature appended to a module (struct module_signature, then the magic string). Checking an
 * RSA signature in emulated code costs a noticeable part of a TCG boot; an unsigned module only taints the
 * throwaway guest kernel, since Debian's kernels do not enforce signatures unless booted under Secure Boot.
 */
export function stripModuleSignature(module: Buffer): Buffer {
  if (module.length < SIGNATURE_MAGIC.length + 12 || !module.subarray(module.length - SIGNATURE_MAGIC.length).equals(SIGNATURE_MAGIC)) {
    return module;
  }
  const info = module.length - SIGNATURE_MAGIC.length - 12;
  const signatureLength = module.readUInt32BE(info + 8);
  const end = info - signatureLength;
  return end > 0 ? module.subarray(0, end) : module;
}

/** A module to load: an in-tree name looked up in the index, or the path of a .ko file of the user's own. */
export interface ModuleRequest {
  module: string;
  /** When true, a name missing from the tree is taken as built into the kernel and skipped. */
  mayBeBuiltIn: boolean;
}

/**
 * Orders the requested modules and their dependencies so that each comes after what it needs. Modules in
 * `loaded` (already in an earlier initramfs layer) are not repeated. A dependency missing from the tree is
 * assumed built in (modpost only lists dependencies that are modules, so this happens only with a mixed-up
 * tree; the guest's insmod then names the missing symbol). `read` is injected for tests.
 */
export function resolveModules(
  requests: readonly ModuleRequest[],
  index: ModuleIndex,
  loaded: ReadonlySet<string> = new Set(),
  read: (path: string) => Buffer = readModuleFile,
): ResolvedModule[] {
  const order: ResolvedModule[] = [];
  const placed = new Set(loaded);
  const visiting = new Set<string>();

  const visit = (name: string, path: string, chain: string[]): void => {
    if (placed.has(name)) return;
    if (visiting.has(name)) throw new VmRunnerError('ERR_QEMU_MODULE', `module dependency cycle: ${[...chain, name].join(' -> ')}`);
    visiting.add(name);
    let data: Buffer;
    let info: ModInfo;
    try {
      data = read(path);
      info = readModInfo(data, path);
    } catch (err) {
      throw new VmRunnerError('ERR_QEMU_MODULE', `cannot read module ${path}: ${(err as Error).message}`, { cause: err });
    }
    for (const dep of info.depends) {
      const depName = normalizeModuleName(dep);
      const depPath = index.get(depName);
      if (depPath !== undefined) visit(depName, depPath, [...chain, name]);
    }
    visiting.delete(name);
    placed.add(name);
    order.push({ name, source: path, data });
  };

  for (const request of requests) {
    if (isModulePath(request.module)) {
      const name = normalizeModuleName(basename(request.module).replace(MODULE_FILE, ''));
      visit(name, request.module, []);
      continue;
    }
    const name = normalizeModuleName(request.module);
    const path = index.get(name);
    if (path !== undefined) visit(name, path, []);
    else if (!request.mayBeBuiltIn && !placed.has(name)) {
      throw new VmRunnerError('ERR_QEMU_MODULE', `module '${request.module}' is not in this kernel's modules tree`);
    }
  }
  return order;
}

/** True when a module request names a file rather than an in-tree module. */
export function isModulePath(module: string): boolean {
  return module.includes('/') || MODULE_FILE.test(module);
}
