import { describe, expect, it } from 'vitest';
import { SyncFileFence } from '../../../lib/drm/sync-file-fence.js';
import { VgemJob } from '../../../lib/drm/vgem-job.js';

// The adapters' work needs a vgem device (test/guest/vgem-fences.test.ts); here, the refusals before any
// system call.
describe('fence adapters refuse bad arguments before any system call', () => {
  it.each([
    ['a SyncFileFence of something that is not a SyncFile', () => new SyncFileFence({} as never)],
    ['a VgemJob on no buffers', () => VgemJob.start([])],
    ['a VgemJob on a list that is not an array', () => VgemJob.start({} as never)],
    ['a VgemJob on something that is not a GemBuffer', () => VgemJob.start([{}] as never)],
  ])('%s', (_name, call) => {
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
