// SPDX-License-Identifier: MIT
// The qemu-system-x86_64 command line: a q35 machine with no default devices, the console on stdio, the
// kernel and initramfs given directly, and three 9p shares (host root read-only, cwd and run dir read-write).
import { SHARE_TAGS } from './guest-init.js';

/** Everything the command line depends on. */
export interface QemuLaunch {
  kvm: boolean;
  memMiB: number;
  cpus: number;
  vmlinuz: string;
  initrd: string;
  cwd: string;
  runDir: string;
}

/**
 * Kernel parameters. `quiet` keeps the console to errors; `panic=-1` reboots at once on a panic, which
 * -no-reboot turns into QEMU exiting; the serial console is the only output device.
 */
export const KERNEL_COMMAND_LINE = 'console=ttyS0 quiet panic=-1 rdinit=/init tsc=reliable no_timer_check i8042.noaux i8042.nokbd';

/** Arguments for qemu-system-x86_64. */
export function qemuArgs(launch: QemuLaunch): string[] {
  // multidevs=remap: the host's / spans several filesystems; without it inode numbers can collide in the guest.
  const share = (path: string, tag: string, readonly: boolean) =>
    `local,path=${escapeOption(path)},mount_tag=${tag},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`;
  return [
    '-machine', `q35,accel=${launch.kvm ? 'kvm' : 'tcg'}`,
    '-cpu', launch.kvm ? 'host' : 'max',
    '-smp', String(launch.cpus),
    '-m', String(launch.memMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', launch.vmlinuz,
    '-initrd', launch.initrd,
    '-append', KERNEL_COMMAND_LINE,
    '-virtfs', share('/', SHARE_TAGS.hostRoot, true),
    '-virtfs', share(launch.cwd, SHARE_TAGS.cwd, false),
    '-virtfs', share(launch.runDir, SHARE_TAGS.run, false),
  ];
}

/** QEMU option values are comma-separated; a literal comma in a path is written twice. */
export function escapeOption(value: string): string {
  return value.replace(/,/g, ',,');
}
