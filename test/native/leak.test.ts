// SPDX-License-Identifier: MIT
// Resources come back: 10,000 create/map/export/close cycles leave the process's fd count and the
// addon's mapping table where they were.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SoftwareDevice } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('resource leaks', () => {
  it('10,000 create/map/close cycles leave the fd count and the mapping table unchanged', () => {
    using device = new SoftwareDevice();
    const fdsBefore = openFds();
    const mappingsBefore = native().liveMappings();
    for (let i = 0; i < 10_000; i++) {
      const buffer = device.createBuffer(4096);
      const mapping = buffer.map();
      mapping.bytes[0] = i & 0xff;
      buffer.close();
    }
    expect(openFds()).toBe(fdsBefore);
    expect(native().liveMappings()).toBe(mappingsBefore);
  });

  it('exporting, mapping the export and closing both in either order leaks nothing', () => {
    using device = new SoftwareDevice();
    const fdsBefore = openFds();
    const mappingsBefore = native().liveMappings();
    for (let i = 0; i < 1000; i++) {
      const buffer = device.createBuffer(8192);
      const dmaBuf = buffer.exportDmaBuf();
      dmaBuf.map({ offset: 4096 });
      if (i % 2 === 0) {
        buffer.close();
        dmaBuf.close();
      } else {
        dmaBuf.close();
        buffer.close();
      }
    }
    expect(openFds()).toBe(fdsBefore);
    expect(native().liveMappings()).toBe(mappingsBefore);
  });
});

interface Sample {
  fds: number;
  records: Record<string, number>;
  rssMiB: number;
}

const cyclesChild = fileURLToPath(new URL('./fixtures/leak-cycles.mjs', import.meta.url));

describe('leak checks: 100,000 cycles of create/map/view/export/import, in a child process', () => {
  it.each([['closed', 'close'], ['dropped', 'drop']])('with everything %s: fds and native records back to the start, RSS on a plateau', (_done, mode) => {
    const run = spawnSync(process.execPath, ['--expose-gc', cyclesChild, mode, '100000'], { encoding: 'utf8', timeout: 240_000 });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const { start, samples, end } = JSON.parse(run.stdout) as { start: Sample; samples: Sample[]; end: Sample };
    expect(end.fds).toBe(start.fds);
    expect(end.records).toEqual(start.records);
    // Once the heap has grown to its working size, RSS grows no further than noise. How many cycles that
    // takes depends on the garbage each leaves: 20,000 while closed objects left their finalizer cells to
    // the collector, 30,000 since close() unregisters them (RSS reaches the same plateau, later). Samples
    // are taken every 10,000 cycles; the check starts after 40,000 and still spans 60,000.
    const settled = samples.slice(3).map((s) => s.rssMiB);
    expect(Math.max(...settled) - settled[0]!).toBeLessThan(16);
  }, 240_000);
});
