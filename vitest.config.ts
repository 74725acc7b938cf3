import { defineConfig } from 'vitest/config';

// Pools: 'forks' on purpose. vmThreads/vmForks give errors made in C++ another realm (instanceof Error
// fails), and worker threads have a history of native-addon crashes (vitest PR #5047).
export default defineConfig({
  test: {
    pool: 'forks',
    teardownTimeout: 5000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'native', include: ['test/native/**/*.test.ts'] } },
      // Boots QEMU VMs from the host (the `drm-gpuvm vm` runner end to end); one file at a time.
      { extends: true, test: { name: 'qemu', include: ['test/qemu/**/*.test.ts'], fileParallelism: false } },
      // What users get: the packed tarball installed in a fresh consumer project (the README's examples, and
      // vgpuvm from an install); boots VMs from the host, one file at a time.
      {
        extends: true,
        test: { name: 'package', include: ['test/package/**/*.test.ts'], globalSetup: ['test/package/consumer-setup.ts'], fileParallelism: false, hookTimeout: 600_000 },
      },
      // Needs a real DRM device: runs inside `drm-gpuvm vm`, one file at a time (they share the device).
      // Under TCG code runs about ten times slower than on the host, hence the longer per-test limit.
      { extends: true, test: { name: 'guest', include: ['test/guest/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000 } },
    ],
  },
});
