// SPDX-License-Identifier: MIT
// An empty op list needs no ioctl, unless the caller wants syncobjs waited on or signalled: there is then no
// bind to carry them, and signalling them here would claim page-table work that never happened.
import { BindRefusedError } from './bind-refused-error.js';
import type { IoctlCall } from './ioctl-call.js';
import type { SyncobjPoint } from './bind-syncs.js';

/** Returns no calls for an empty op list, or refuses it if it carries syncobjs. */
export function refuseSyncsWithoutBinds(driver: string, waits: readonly SyncobjPoint[], signals: readonly SyncobjPoint[]): IoctlCall[] {
  if (waits.length + signals.length > 0) {
    throw new BindRefusedError(driver, 'ERR_BIND_UNSUPPORTED', 'the op list is empty, so there is no bind to wait or signal syncobjs; signal them with SYNCOBJ_SIGNAL instead');
  }
  return [];
}
