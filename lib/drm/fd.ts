// SPDX-License-Identifier: MIT
// Taking in an fd from outside: checked for its kind and duplicated, so this package owns its copy and
// the caller keeps (and closes) theirs.
import { native } from '../native.js';
import type { NativeFdKind } from '../native-types.js';
import { invalidArgType, invalidArgValue } from '../arg-errors.js';
import { callNative } from './errors.js';

/** Checks that `fd` is a file descriptor number of `kind`, and returns a close-on-exec duplicate. */
export function takeFd(fd: unknown, kind: NativeFdKind['kind'] | NativeFdKind['kind'][], name: string): number {
  if (typeof fd !== 'number') throw invalidArgType(name, 'number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw invalidArgValue(name, fd, 'must be a file descriptor (an integer in [0, 2^31-1])');
  const actual = callNative({}, () => native().fdKind(fd)).kind;
  const kinds = Array.isArray(kind) ? kind : [kind];
  if (!kinds.includes(actual)) throw invalidArgValue(name, fd, `must be a ${kinds.join(' or ')} fd, but it is ${actual === 'other' ? 'something else' : `a ${actual}`}`);
  return callNative({}, () => native().dup(fd));
}
