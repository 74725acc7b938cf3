// SPDX-License-Identifier: MIT
// Types of build.mjs, for the TypeScript callers (lib/qemu/vgpuvm.ts, test/guest/vgpuvm-*.test.ts).

/** A progress sink: one line per call. */
type Log = (line: string) => void;

/** The names of the user-space programs built from this folder. */
export type ToolName = 'smoke' | 'replay';

/** The folder holding the module sources. */
export const KMOD_SOURCE_DIR: string;
/** The files whose contents define the module. */
export const KMOD_SOURCES: string[];
/** Each tool's source files. */
export const TOOL_SOURCES: Record<ToolName, string[]>;
/** In-tree modules to load before vgpuvm.ko, in order. */
export const VGPUVM_DEPENDENCIES: string[];

/** `$XDG_CACHE_HOME/drm-gpuvm/vgpuvm` (or under ~/.cache). */
export function vgpuvmCacheDir(): string;
/** Makes sure the cached sid chroot exists; returns its path. */
export function ensureSidChroot(options?: { log?: Log }): Promise<string>;
/** The kernel release sid's linux-image-amd64 depends on now. */
export function sidKernelVersion(chroot: string, options?: { log?: Log }): Promise<string>;
/** A cache key: a hash of the named files of this folder. */
export function sourceHash(names: string[]): string;
/** Builds (or finds) vgpuvm.ko for a kernel release. */
export function buildVgpuvm(options?: { kernelVersion?: string; log?: Log }): Promise<{
  module: string;
  kernelVersion: string;
  dependencies: string[];
}>;
/** Where a tool built from the current sources is cached (it may not exist yet). */
export function toolPath(name: ToolName): string;
/** Builds (or finds) a tool; returns its path. */
export function buildTool(name: ToolName, options?: { log?: Log }): Promise<string>;
