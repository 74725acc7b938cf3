// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { writableDirs } from '../../../lib/qemu/writable-dirs.js';

describe('writableDirs (the host directories the guest gets a writable layer over)', () => {
  it('takes HOME and the XDG base directories the environment names', () => {
    const env = { HOME: '/home/u', XDG_CACHE_HOME: '/var/cache/u', XDG_RUNTIME_DIR: '/run/user/1000', PATH: '/usr/bin' };
    expect(writableDirs(env, '/work/p')).toEqual(['/home/u', '/var/cache/u', '/run/user/1000']);
  });

  it('leaves out what another layer, /tmp or the read-write working directory already covers', () => {
    const env = { HOME: '/home/u', XDG_CONFIG_HOME: '/home/u/.config', XDG_CACHE_HOME: '/tmp/cache', XDG_DATA_HOME: '/work/p/data' };
    expect(writableDirs(env, '/work/p')).toEqual(['/home/u']);
  });

  it('keeps a HOME that holds the working directory (the working directory is mounted over it)', () => {
    expect(writableDirs({ HOME: '/root' }, '/root/project')).toEqual(['/root']);
  });

  it('ignores unset, relative and root directories, and normalizes the rest', () => {
    expect(writableDirs({ HOME: '/', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: undefined, XDG_DATA_HOME: '/srv//d/' }, '/work/p')).toEqual(['/srv/d']);
  });

  it('does not take a directory whose name only starts like a covered one', () => {
    expect(writableDirs({ HOME: '/tmpfoo/u' }, '/work/p')).toEqual(['/tmpfoo/u']);
  });
});
