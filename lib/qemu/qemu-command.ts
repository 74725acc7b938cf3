// SPDX-License-Identifier: MIT
// The QEMU command line: the architecture's machine with no default devices, the console on stdio, the
// kernel and initramfs given directly, and three 9p shares (the guest's root read-only: the host's / or an
// arm64 root; the cwd and the run directory read-write).
import { GUEST_ARCHES } from './guest-arch.js';
import { SHARE_TAGS } from './guest-init.js';
import type { VmArch } from './vm-args.js';

/** Everything the command line depends on. */
export interface QemuLaunch {
  arch: VmArch;
  kvm: boolean;
  memMiB: number;
  cpus: number;
  vmlinuz: string;
  initrd: string;
  cwd: string;
  runDir: string;
  /** The directory the guest mounts as its root: `/` (the host's userland) or a root of the guest's architecture. */
  root: string;
}

/** Arguments for the architecture's qemu-system-*. */
export function qemuArgs(launch: QemuLaunch): string[] {
  // multidevs=remap: the host's / spans several filesystems; without it inode numbers can collide in the guest.
  const share = (path: string, tag: string, readonly: boolean) =>
    `local,path=${escapeOption(path)},mount_tag=${tag},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`;
  const arch = GUEST_ARCHES[launch.arch];
  return [
    ...arch.machineArgs(launch.kvm),
    '-smp', String(launch.cpus),
    '-m', String(launch.memMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', launch.vmlinuz,
    '-initrd', launch.initrd,
    '-append', arch.kernelCommandLine,
    '-virtfs', share(launch.root, SHARE_TAGS.hostRoot, true),
    '-virtfs', share(launch.cwd, SHARE_TAGS.cwd, false),
    '-virtfs', share(launch.runDir, SHARE_TAGS.run, false),
  ];
}

/** QEMU option values are comma-separated; a literal comma in a path is written twice. */
export function escapeOption(value: string): string {
  return value.replace(/,/g, ',,');
}
