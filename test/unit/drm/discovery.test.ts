// SPDX-License-Identifier: MIT
// Node discovery reads sysfs only; these trees mirror what vgem shows on Linux 6.1 (a platform device
// with no bound driver, MODALIAS only) and 7.2 (a faux device whose driver is faux_driver).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listDevices } from '../../../lib/drm/discovery.js';

let root: string;

interface FakeDevice {
  devicePath: string;
  uevent: string;
  driver?: string;
  nodes: Array<{ name: string; minor: number }>;
}

function fakeSysfs(devices: FakeDevice[]): string {
  root = mkdtempSync(join(tmpdir(), 'drm-sysfs-'));
  const classDir = join(root, 'class', 'drm');
  mkdirSync(classDir, { recursive: true });
  writeFileSync(join(classDir, 'version'), 'drm 1.1.0 20060810\n');
  for (const device of devices) {
    const deviceDir = join(root, 'devices', device.devicePath);
    mkdirSync(join(deviceDir, 'drm'), { recursive: true });
    writeFileSync(join(deviceDir, 'uevent'), device.uevent);
    if (device.driver !== undefined) {
      mkdirSync(join(root, 'drivers', device.driver), { recursive: true });
      symlinkSync(join(root, 'drivers', device.driver), join(deviceDir, 'driver'));
    }
    for (const node of device.nodes) {
      const nodeDir = join(deviceDir, 'drm', node.name);
      mkdirSync(nodeDir);
      writeFileSync(join(nodeDir, 'dev'), `226:${node.minor}\n`);
      symlinkSync(deviceDir, join(nodeDir, 'device'));
      symlinkSync(nodeDir, join(classDir, node.name));
    }
  }
  return classDir;
}

afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const vgem61: FakeDevice = {
  devicePath: 'platform/vgem',
  uevent: 'MODALIAS=platform:vgem\n',
  nodes: [{ name: 'renderD128', minor: 128 }, { name: 'card0', minor: 0 }],
};

describe('listDevices', () => {
  it('returns an empty list when there is no DRM class folder', () => {
    expect(listDevices(join(tmpdir(), 'no-such-sysfs-folder'), '/dev/dri')).toEqual([]);
  });

  it('lists card nodes first, each with its device file, type and minor', () => {
    const nodes = listDevices(fakeSysfs([vgem61]), '/dev/dri');
    expect(nodes.map((n) => [n.name, n.path, n.type, n.minor])).toEqual([
      ['card0', '/dev/dri/card0', 'card', 0],
      ['renderD128', '/dev/dri/renderD128', 'render', 128],
    ]);
  });

  it('pairs card and render nodes of the same device as siblings', () => {
    const nodes = listDevices(fakeSysfs([vgem61]), '/dev/dri');
    expect(nodes.map((n) => n.sibling)).toEqual(['/dev/dri/renderD128', '/dev/dri/card0']);
  });

  it('names the driver from MODALIAS when no driver is bound (vgem on 6.1)', () => {
    const nodes = listDevices(fakeSysfs([vgem61]), '/dev/dri');
    expect(nodes.every((n) => n.sysfsDriver === 'vgem')).toBe(true);
  });

  it('names the driver from the driver link when there is one (faux_driver on 7.2)', () => {
    const nodes = listDevices(fakeSysfs([{
      devicePath: 'faux/vgem', uevent: 'DRIVER=faux_driver\n', driver: 'faux_driver',
      nodes: [{ name: 'card0', minor: 0 }, { name: 'renderD128', minor: 128 }],
    }]), '/dev/dri');
    expect(nodes.map((n) => n.sysfsDriver)).toEqual(['faux_driver', 'faux_driver']);
  });

  it('leaves a card-only device (vkms) without a sibling', () => {
    const nodes = listDevices(fakeSysfs([{ devicePath: 'platform/vkms', uevent: 'DRIVER=vkms\n', nodes: [{ name: 'card1', minor: 1 }] }]), '/dev/dri');
    expect(nodes).toHaveLength(1);
    expect(nodes[0]?.sibling).toBeUndefined();
    expect(nodes[0]?.sysfsDriver).toBe('vkms');
  });

  it('takes the type from the name, not the minor range', () => {
    const nodes = listDevices(fakeSysfs([{ devicePath: 'pci/gpu', uevent: '', nodes: [{ name: 'renderD300', minor: 300 }] }]), '/dev/dri');
    expect(nodes[0]?.type).toBe('render');
  });

  it('ignores entries that are not nodes (connectors, version)', () => {
    const classDir = fakeSysfs([vgem61]);
    mkdirSync(join(classDir, 'card0-Virtual-1'));
    expect(listDevices(classDir, '/dev/dri').map((n) => n.name)).toEqual(['card0', 'renderD128']);
  });
});
