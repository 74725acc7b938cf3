// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { parseVmArgs } from '../../../lib/cli/vm.js';
import { DEFAULT_MEM_MIB, DEFAULT_TIMEOUT_S } from '../../../lib/qemu/vm-args.js';

const usageError = (text: string) => expect.objectContaining({ code: 'ERR_CLI_USAGE', exitCode: 2, message: expect.stringContaining(text) });

describe('drm-gpuvm vm arguments', () => {
  it('defaults to the bookworm kernel, default memory and timeout, no keep', () => {
    expect(parseVmArgs(['--', 'true'], '/w')).toEqual({
      action: 'run', arch: 'x64', kernel: { kind: 'debian', suite: 'bookworm' }, memMiB: DEFAULT_MEM_MIB, timeoutS: DEFAULT_TIMEOUT_S, keep: false, withVgpuvm: false, command: ['true'],
    });
  });

  it('passes everything after -- to the command untouched, options included', () => {
    expect(parseVmArgs(['--', 'node', '--kernel', 'x', '--', '-e'], '/w')).toMatchObject({ command: ['node', '--kernel', 'x', '--', '-e'] });
  });

  it.each([
    [['--kernel', 'sid'], { kind: 'debian', suite: 'sid' }],
    [['--kernel=bookworm'], { kind: 'debian', suite: 'bookworm' }],
    [['--kernel', './k'], { kind: 'path', path: '/w/k' }],
    [['--kernel', '/abs/k'], { kind: 'path', path: '/abs/k' }],
  ])('reads --kernel %j', (args, kernel) => {
    expect(parseVmArgs([...args, '--', 'true'], '/w')).toMatchObject({ kernel });
  });

  it.each([
    [['--arch', 'arm64'], 'arm64'],
    [['--arch=x64'], 'x64'],
    [['--arch', 'arm64', '--kernel', 'sid'], 'arm64'],
  ])('reads --arch %j', (args, arch) => {
    expect(parseVmArgs([...args, '--', 'true'], '/w')).toMatchObject({ arch });
  });

  it.each([['aarch64'], ['amd64'], ['ARM64'], ['']])('refuses --arch %j, naming the architectures it takes', (arch) => {
    expect(() => parseVmArgs([`--arch=${arch}`, '--', 'true'], '/w')).toThrow(usageError('expected x64 or arm64'));
  });

  it('refuses --with-vgpuvm on an arm64 guest', () => {
    expect(() => parseVmArgs(['--arch', 'arm64', '--kernel', 'sid', '--with-vgpuvm', '--', 'true'], '/w')).toThrow(usageError('--with-vgpuvm is for x64 guests only'));
  });

  it('reads --mem, --timeout (0 = no limit) and --keep', () => {
    expect(parseVmArgs(['--mem', '512', '--timeout=0', '--keep', '--', 'true'], '/w')).toMatchObject({ memMiB: 512, timeoutS: 0, keep: true });
  });

  it.each([
    [['--mem', '12x', '--', 'true'], '--mem needs a whole number'],
    [['--mem', '-1', '--', 'true'], '--mem needs a whole number'],
    [['--mem', '128', '--', 'true'], '--mem must be between 256'],
    [['--timeout', '1.5', '--', 'true'], '--timeout needs a whole number'],
    [['--kernel', '--', 'true'], '--kernel needs a value'],
    [['--kernel='], '--kernel needs bookworm, sid or a path'],
    [['--keep=yes', '--', 'true'], '--keep takes no value'],
    [['--bogus', '--', 'true'], "unknown option '--bogus'"],
    [['true'], "unexpected 'true': put the command after --"],
    [['--'], 'no command after --'],
    [[], 'no command'],
    [['--json', '--', 'true'], '--json applies only to --status'],
  ])('refuses %j', (args, text) => {
    expect(() => parseVmArgs(args, '/w')).toThrow(usageError(text));
  });

  it.each([
    { argv: ['--kernel', 'sid', '--with-vgpuvm', '--', 'true'], withVgpuvm: true, command: ['true'] },
    { argv: ['--with-vgpuvm', '--kernel', 'sid', '--', 'true'], withVgpuvm: true, command: ['true'] },
    { argv: ['--kernel', 'sid', '--', 'true'], withVgpuvm: false, command: ['true'] },
    { argv: ['--kernel', 'sid', '--', 'echo', '--with-vgpuvm'], withVgpuvm: false, command: ['echo', '--with-vgpuvm'] },
  ])('reads --with-vgpuvm only before --: $argv', ({ argv, withVgpuvm, command }) => {
    expect(parseVmArgs(argv, '/w')).toMatchObject({ withVgpuvm, command });
  });

  it.each([
    [['--with-vgpuvm', '--', 'true']],
    [['--with-vgpuvm', '--kernel', 'bookworm', '--', 'true']],
    [['--with-vgpuvm', '--kernel', '/boot', '--', 'true']],
  ])('refuses --with-vgpuvm without --kernel sid: %j', (args) => {
    expect(() => parseVmArgs(args, '/w')).toThrow(usageError('--with-vgpuvm needs --kernel sid'));
  });

  it('reads --status and --status --json', () => {
    expect(parseVmArgs(['--status'])).toEqual({ action: 'status', json: false });
    expect(parseVmArgs(['--json', '--status'])).toEqual({ action: 'status', json: true });
  });

  it('refuses run options and a command with --status', () => {
    expect(() => parseVmArgs(['--status', '--kernel', 'sid'])).toThrow(usageError('--kernel does not apply to --status'));
    expect(() => parseVmArgs(['--status', '--', 'true'])).toThrow(usageError('--status takes no command'));
    expect(() => parseVmArgs(['--status', '--with-vgpuvm'])).toThrow(usageError('--with-vgpuvm does not apply to --status'));
    expect(() => parseVmArgs(['--status', '--arch', 'arm64'])).toThrow(usageError('--arch does not apply to --status'));
  });

  it('answers --help with the usage', () => {
    expect(parseVmArgs(['--help'])).toEqual({ action: 'help' });
    expect(parseVmArgs(['-h', '--bogus'])).toEqual({ action: 'help' });
  });
});
