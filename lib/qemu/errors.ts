// SPDX-License-Identifier: MIT
// One error type for everything the VM runner refuses or fails at, so callers can branch on `code`.

/** Why a VM run could not start or did not finish normally. */
export type VmRunnerErrorCode =
  | 'ERR_QEMU_USAGE'            // bad command-line arguments or options
  | 'ERR_QEMU_MISSING_PACKAGE'  // a host tool is missing and could not be installed
  | 'ERR_QEMU_KERNEL'           // the kernel could not be fetched or its layout is not understood
  | 'ERR_QEMU_MODULE'           // a kernel module is missing or failed to load in the guest
  | 'ERR_QEMU_BOOT'             // the guest stopped before it could run the command
  | 'ERR_QEMU_PANIC'            // the guest kernel panicked
  | 'ERR_QEMU_COMMAND_NOT_FOUND'
  | 'ERR_QEMU_TIMEOUT'
  | 'ERR_QEMU_ABORTED';

/** An error of the VM runner; `exitCode` is what the `vm` command exits with for it. */
export class VmRunnerError extends Error {
  /** What failed, as one of the ERR_QEMU_* codes. */
  readonly code: VmRunnerErrorCode;
  /** The exit status the `vm` command uses for this failure: 2 usage, 124 timeout, 127 command not found, 130 aborted, else 125. */
  readonly exitCode: number;
  /** The last lines of the guest console, when they help explain the failure. */
  readonly consoleTail: string | undefined;

  constructor(code: VmRunnerErrorCode, message: string, options: { exitCode?: number; consoleTail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmRunnerError';
    this.code = code;
    this.exitCode = options.exitCode ?? defaultExitCode(code);
    this.consoleTail = options.consoleTail;
  }
}

// 124 and 127 follow timeout(1) and the shell; 125 is "the runner itself failed", as with timeout(1).
function defaultExitCode(code: VmRunnerErrorCode): number {
  switch (code) {
    case 'ERR_QEMU_USAGE': return 2;
    case 'ERR_QEMU_TIMEOUT': return 124;
    case 'ERR_QEMU_COMMAND_NOT_FOUND': return 127;
    case 'ERR_QEMU_ABORTED': return 130;
    default: return 125;
  }
}
