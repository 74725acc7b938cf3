// SPDX-License-Identifier: MIT
// Failed syscalls surface as Node-shaped errors: code, negative errno, syscall, path, ioctl name, advice.
import { describe, expect, it } from 'vitest';
import { DrmDevice, DrmError } from '../../lib/index.js';
import { callNative } from '../../lib/drm/errors.js';
import { native } from '../../lib/native.js';

describe('error mapping', () => {
  it('turns a DRM ioctl on /dev/null into ENOTTY with the ioctl name and path', () => {
    const fd = native().open('/dev/null', true);
    try {
      expect(() => callNative({ path: '/dev/null' }, () => native().getCap(fd, 1n))).toThrow(expect.objectContaining({
        name: 'DrmError', code: 'ENOTTY', errno: -25, syscall: 'ioctl', ioctl: 'DRM_IOCTL_GET_CAP', path: '/dev/null',
      }));
    } finally {
      native().close(fd);
    }
  });

  it('turns SET_VERSION on /dev/null into ENOTTY with its ioctl name, so the ioctl was really issued', () => {
    const fd = native().open('/dev/null', true);
    try {
      expect(() => callNative({ path: '/dev/null' }, () => native().setVersion(fd, 1, 4, -1, -1))).toThrow(expect.objectContaining({
        name: 'DrmError', code: 'ENOTTY', errno: -25, syscall: 'ioctl', ioctl: 'DRM_IOCTL_SET_VERSION', path: '/dev/null',
      }));
    } finally {
      native().close(fd);
    }
  });

  it('writes the message the way Node does: code, description, syscall, path', () => {
    const fd = native().open('/dev/null', true);
    try {
      callNative({ path: '/dev/null' }, () => native().version(fd));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DrmError);
      expect((error as Error).message).toBe(
        "ENOTTY: inappropriate ioctl for device, ioctl DRM_IOCTL_VERSION '/dev/null' (not a DRM device node)");
    } finally {
      native().close(fd);
    }
  });

  it('reports a missing node as ENOENT from open, with the path and advice', () => {
    expect(() => DrmDevice.open('/dev/dri/card99')).toThrow(expect.objectContaining({
      code: 'ENOENT', errno: -2, syscall: 'open', path: '/dev/dri/card99', advice: expect.stringContaining('--device /dev/dri'),
    }));
  });

  it('refuses to open a file that is not a DRM node, and closes what it opened', () => {
    const before = native().dup(0);
    native().close(before);
    expect(() => DrmDevice.open('/dev/null')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const after = native().dup(0);
    native().close(after);
    expect(after).toBe(before);
  });

  it('leaves errors that are not syscall failures as they are', () => {
    const error = new TypeError('bad');
    expect(() => callNative({}, () => { throw error; })).toThrow(error);
  });
});

describe('errno names', () => {
  it('names errno 95 EOPNOTSUPP, as DRM documents it, not ENOTSUP', () => {
    const error = new DrmError(95, 'ioctl', { ioctl: 'DRM_IOCTL_SYNCOBJ_CREATE' });
    expect([error.code, error.errno, error.message]).toEqual(['EOPNOTSUPP', -95, 'EOPNOTSUPP: operation not supported, ioctl DRM_IOCTL_SYNCOBJ_CREATE']);
  });
});
