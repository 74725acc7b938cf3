// SPDX-License-Identifier: MIT
// What differs between the guest architectures: the Debian architecture the kernel (and, for arm64, the
// guest's userland) comes from, the QEMU binary, the machine and CPU models, and the console the kernel
// writes to. x64 guests run the host's own userland; arm64 guests run under TCG on a root of their own.
import type { HostTool } from './host-tools.js';
import type { VmArch } from './vm-args.js';

/** One guest architecture. */
export interface GuestArch {
  /** Debian's name for it: the suffix of linux-image-* and the architecture apt downloads for. */
  debianArch: string;
  /** The QEMU system emulator for it. */
  qemu: HostTool;
  /** True when the guest runs the host's userland (the host's / shared read-only), false when it needs a root of its own. */
  hostUserland: boolean;
  /** -machine and -cpu arguments. */
  machineArgs(kvm: boolean): string[];
  /**
   * Kernel parameters. `quiet` keeps the console to errors; `panic=-1` reboots at once on a panic, which
   * -no-reboot turns into QEMU exiting; the serial console is the only output device.
   */
  kernelCommandLine: string;
}

const COMMON_COMMAND_LINE = 'quiet panic=-1 rdinit=/init';

/** The architectures, by the names `--arch` takes. */
export const GUEST_ARCHES: Readonly<Record<VmArch, GuestArch>> = {
  x64: {
    debianArch: 'amd64',
    qemu: { name: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86' },
    hostUserland: true,
    machineArgs: (kvm) => ['-machine', `q35,accel=${kvm ? 'kvm' : 'tcg'}`, '-cpu', kvm ? 'host' : 'max'],
    kernelCommandLine: `console=ttyS0 ${COMMON_COMMAND_LINE} tsc=reliable no_timer_check i8042.noaux i8042.nokbd`,
  },
  arm64: {
    debianArch: 'arm64',
    qemu: { name: 'qemu-system-aarch64', debianPackage: 'qemu-system-arm' },
    hostUserland: false,
    // Always TCG (an x86 host has no arm64 KVM). The max CPU model with the cheap "implementation defined"
    // pointer-authentication algorithm: emulating the architected QARMA5 cipher on every return costs dearly.
    machineArgs: () => ['-machine', 'virt,accel=tcg', '-cpu', 'max,pauth-impdef=on'],
    // The virt machine's PL011 UART.
    kernelCommandLine: `console=ttyAMA0 ${COMMON_COMMAND_LINE}`,
  },
};
