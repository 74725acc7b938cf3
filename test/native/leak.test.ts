// SPDX-License-Identifier: MIT
// Resources come back: 10,000 create/map/export/close cycles leave the process's fd count and the
// addon's mapping table where they were.
import { readdirSync } from 'node:fs';
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
