// SPDX-License-Identifier: MIT
// What a VM run can be asked for: which kernel, and the defaults of its limits. The `drm-gpuvm vm` command
// line that chooses them is read in lib/cli/vm.ts.

/** The Debian suites whose kernel the runner can fetch by name. */
export const DEBIAN_SUITES = ['bookworm', 'sid'] as const;
/** A Debian suite the runner knows how to fetch a kernel from. */
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

/** The guest architectures, named as Node names them (process.arch): the host's own, and arm64 under emulation. */
export const VM_ARCHES = ['x64', 'arm64'] as const;
/** A guest architecture. */
export type VmArch = (typeof VM_ARCHES)[number];

/** Which kernel to boot: a Debian suite's current kernel, or a vmlinuz + modules tree of the user's own. */
export type KernelChoice = { kind: 'debian'; suite: DebianSuite } | { kind: 'path'; path: string };

/** Default guest memory; node plus vitest workers fit in it with room to spare. */
export const DEFAULT_MEM_MIB = 2048;
/** Default limit on a whole run; `--timeout 0` removes it. */
export const DEFAULT_TIMEOUT_S = 1800;
