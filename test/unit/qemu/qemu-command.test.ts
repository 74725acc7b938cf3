// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { GUEST_ARCHES } from '../../../lib/qemu/guest-arch.js';
import { escapeOption, qemuArgs, type QemuLaunch } from '../../../lib/qemu/qemu-command.js';

const launch: QemuLaunch = { arch: 'x64', kvm: false, memMiB: 2048, cpus: 1, vmlinuz: '/c/vmlinux', initrd: '/c/i.cpio', cwd: '/work/p', runDir: '/tmp/run', root: '/' };
const KERNEL_COMMAND_LINE = GUEST_ARCHES.x64.kernelCommandLine;
const valueOf = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

describe('QEMU command line', () => {
  it('uses TCG with the max CPU model without KVM, and KVM with the host CPU when usable', () => {
    expect(valueOf(qemuArgs(launch), '-machine')).toEqual(['q35,accel=tcg']);
    expect(valueOf(qemuArgs(launch), '-cpu')).toEqual(['max']);
    expect(valueOf(qemuArgs({ ...launch, kvm: true }), '-machine')).toEqual(['q35,accel=kvm']);
    expect(valueOf(qemuArgs({ ...launch, kvm: true }), '-cpu')).toEqual(['host']);
  });

  it('passes memory, CPU count, kernel, initramfs and the kernel command line', () => {
    const args = qemuArgs({ ...launch, memMiB: 512, cpus: 2 });
    expect(valueOf(args, '-m')).toEqual(['512']);
    expect(valueOf(args, '-smp')).toEqual(['2']);
    expect(valueOf(args, '-kernel')).toEqual(['/c/vmlinux']);
    expect(valueOf(args, '-initrd')).toEqual(['/c/i.cpio']);
    expect(valueOf(args, '-append')).toEqual([KERNEL_COMMAND_LINE]);
  });

  it('shares the host root read-only and the cwd and run directory read-write, all with remapped inodes', () => {
    expect(valueOf(qemuArgs(launch), '-virtfs')).toEqual([
      'local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap,readonly=on',
      'local,path=/work/p,mount_tag=cwd,security_model=none,multidevs=remap',
      'local,path=/tmp/run,mount_tag=run,security_model=none,multidevs=remap',
    ]);
  });

  it('reboots into an exit (-no-reboot) and leaves the console as the only serial device on stdio', () => {
    const args = qemuArgs(launch);
    expect(args).toContain('-no-reboot');
    expect(args).toContain('-nodefaults');
    expect(valueOf(args, '-serial')).toEqual(['stdio']);
    expect(KERNEL_COMMAND_LINE).toMatch(/console=ttyS0.*panic=-1/);
  });

  it('boots an arm64 guest on the virt machine under TCG, its console on the PL011, its root a directory of its own', () => {
    const args = qemuArgs({ ...launch, arch: 'arm64', root: '/c/roots/arm64' });
    expect(valueOf(args, '-machine')).toEqual(['virt,accel=tcg']);
    expect(valueOf(args, '-cpu')).toEqual(['max,pauth-impdef=on']);
    expect(valueOf(args, '-append')[0]).toMatch(/^console=ttyAMA0 .*panic=-1/);
    expect(valueOf(args, '-append')[0]).not.toMatch(/tsc=|i8042/);
    expect(valueOf(args, '-virtfs')[0]).toBe('local,path=/c/roots/arm64,mount_tag=hostroot,security_model=none,multidevs=remap,readonly=on');
    // Never KVM, even where the host has one: it is for the host's architecture.
    expect(valueOf(qemuArgs({ ...launch, arch: 'arm64', kvm: true }), '-machine')).toEqual(['virt,accel=tcg']);
  });

  it('doubles commas in paths, as QEMU option syntax needs', () => {
    expect(escapeOption('/a,b,,c')).toBe('/a,,b,,,,c');
    expect(valueOf(qemuArgs({ ...launch, cwd: '/w,x' }), '-virtfs')[1]).toContain('path=/w,,x,');
  });
});
