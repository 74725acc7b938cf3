// SPDX-License-Identifier: MIT
// Command-line grammar of `drm-gpuvm vm`, kept pure so every case can be tested without a VM.
import { resolve } from 'node:path';
import { VmRunnerError } from './errors.js';

/** The Debian suites whose kernel the runner can fetch by name. */
export const DEBIAN_SUITES = ['bookworm', 'sid'] as const;
/** A Debian suite the runner knows how to fetch a kernel from. */
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

/** Which kernel to boot: a Debian suite's current kernel, or a vmlinuz + modules tree of the user's own. */
export type KernelChoice = { kind: 'debian'; suite: DebianSuite } | { kind: 'path'; path: string };

/** Default guest memory; node plus vitest workers fit in it with room to spare. */
export const DEFAULT_MEM_MIB = 2048;
/** Default limit on a whole run; `--timeout 0` removes it. */
export const DEFAULT_TIMEOUT_S = 1800;

/** What the command line asks for. */
export type VmInvocation =
  | { action: 'help' }
  | { action: 'status'; json: boolean }
  | { action: 'run'; kernel: KernelChoice; memMiB: number; timeoutS: number; keep: boolean; command: string[] };

/** Usage text of `drm-gpuvm vm`. */
export const VM_USAGE = `usage: drm-gpuvm vm [--kernel bookworm|sid|PATH] [--mem MiB] [--timeout S] [--keep] -- COMMAND [ARGS...]
       drm-gpuvm vm --status [--json]

Boots a Debian kernel under QEMU with vgem loaded and runs COMMAND in it: the host's / is shared read-only,
the current directory read-write at the same path; same user id, environment and working directory.
Exits with COMMAND's exit status; 124 on timeout, 125 when the VM itself failed, 127 when COMMAND is not found.

  --kernel K    bookworm (default: Debian 12's newest 6.1 kernel), sid (the kernel Debian unstable's
                linux-image-amd64 depends on), or PATH: a directory holding a vmlinuz and a modules tree
                (an extracted kernel package, or lib/modules/VERSION with vmlinuz inside it)
  --mem MiB     guest memory (default ${DEFAULT_MEM_MIB})
  --timeout S   kill the VM and exit 124 after S seconds (default ${DEFAULT_TIMEOUT_S}; 0 = no limit)
  --keep        keep the run directory (console log, guest output, initramfs) and print where it is
  --status      show what is cached (kernels, versions, sizes); --json for a machine-readable form
`;

/**
 * Parses the arguments that follow `drm-gpuvm vm`. Throws a VmRunnerError with code ERR_QEMU_USAGE on anything it
 * does not understand, naming the offending argument.
 */
export function parseVmArgs(argv: readonly string[], cwd: string = process.cwd()): VmInvocation {
  let kernel: KernelChoice = { kind: 'debian', suite: 'bookworm' };
  let memMiB = DEFAULT_MEM_MIB;
  let timeoutS = DEFAULT_TIMEOUT_S;
  let keep = false;
  let status = false;
  let json = false;
  const runOnly: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const command = argv.slice(i + 1);
      if (status) throw usage('--status takes no command');
      if (json) throw usage('--json applies only to --status');
      if (command.length === 0) throw usage('no command after --');
      return { action: 'run', kernel, memMiB, timeoutS, keep, command };
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const takeValue = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || next === '--') throw usage(`${name} needs a value`);
      i++;
      return next;
    };
    const refuseValue = (): void => {
      if (eq !== -1) throw usage(`${name} takes no value`);
    };
    switch (name) {
      case '-h':
      case '--help':
        return { action: 'help' };
      case '--kernel':
        kernel = parseKernel(takeValue(), cwd);
        runOnly.push(name);
        break;
      case '--mem':
        memMiB = parseInteger(name, takeValue(), 256, 1 << 20);
        runOnly.push(name);
        break;
      case '--timeout':
        timeoutS = parseInteger(name, takeValue(), 0, 7 * 24 * 3600);
        runOnly.push(name);
        break;
      case '--keep':
        refuseValue();
        keep = true;
        runOnly.push(name);
        break;
      case '--status':
        refuseValue();
        status = true;
        break;
      case '--json':
        refuseValue();
        json = true;
        break;
      default:
        if (arg.startsWith('-')) throw usage(`unknown option '${arg}'`);
        throw usage(`unexpected '${arg}': put the command after --`);
    }
  }
  if (status) {
    if (runOnly.length > 0) throw usage(`${runOnly[0]} does not apply to --status`);
    return { action: 'status', json };
  }
  if (json) throw usage('--json applies only to --status');
  throw usage('no command: drm-gpuvm vm [options] -- COMMAND [ARGS...]');
}

function parseKernel(value: string, cwd: string): KernelChoice {
  if (value === '') throw usage('--kernel needs bookworm, sid or a path');
  if ((DEBIAN_SUITES as readonly string[]).includes(value)) return { kind: 'debian', suite: value as DebianSuite };
  return { kind: 'path', path: resolve(cwd, value) };
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw usage(`${name} needs a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw usage(`${name} must be between ${min} and ${max}, got ${value}`);
  return n;
}

function usage(message: string): VmRunnerError {
  return new VmRunnerError('ERR_QEMU_USAGE', `${message}\n\n${VM_USAGE}`);
}
