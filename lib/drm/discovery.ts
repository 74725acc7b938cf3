// SPDX-License-Identifier: MIT
// Finding DRM nodes through sysfs (/sys/class/drm), without opening them: type by name (card*, renderD*,
// never by minor range), card/render pairing through the parent device's drm/ folder, and the driver
// as sysfs tells it (driver link, else uevent DRIVER=, else MODALIAS=platform:NAME as vgem needs on 6.1,
// where it is a platform device with no bound driver). DRM_IOCTL_VERSION stays the authority on the
// driver: see describeDevice.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DrmCap } from './caps.js';
import { DrmDevice, type DriverVersion, type NodeType } from './drm-device.js';
import { invalidArgType } from '../arg-errors.js';

/** A DRM node as sysfs lists it. */
export interface DrmNode {
  /** 'card0', 'renderD128'. */
  name: string;
  /** The device file, e.g. '/dev/dri/card0'. */
  path: string;
  /** 'card' (primary node, modesetting and GEM) or 'render' (render node, no modesetting). */
  type: NodeType;
  /** The minor number from the sysfs `dev` file (major is 226). */
  minor: number;
  /** The driver as sysfs names it ('vgem', 'faux_driver', 'amdgpu'), when it does. */
  sysfsDriver: string | undefined;
  /** The other node of the same device (card <-> render), when there is one. */
  sibling: string | undefined;
}

/** A DRM node with what opening it tells. */
export interface DrmNodeDescription extends DrmNode {
  /** DRM_IOCTL_VERSION, when the node could be opened. */
  version?: DriverVersion;
  /** GET_CAP values by DrmCap name; caps the driver refuses are absent. */
  caps?: Record<string, bigint>;
  /** Why the node could not be opened or queried. */
  error?: string;
}

const NODE_NAME = /^(card|renderD)(\d+)$/;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function sysfsDriverOf(entry: string): string | undefined {
  try {
    return basename(readlinkSync(join(entry, 'device', 'driver')));
  } catch {
    // No bound driver: vgem on 6.1 is a bare platform device. Fall back to the uevent.
  }
  const uevent = readText(join(entry, 'device', 'uevent')) ?? '';
  const driver = /^DRIVER=(.+)$/m.exec(uevent)?.[1];
  if (driver !== undefined) return driver;
  return /^MODALIAS=platform:(.+)$/m.exec(uevent)?.[1];
}

function siblingOf(entry: string, name: string, devRoot: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(join(entry, 'device', 'drm'));
  } catch {
    return undefined;
  }
  const own = NODE_NAME.exec(name)?.[1];
  const other = names.find((n) => NODE_NAME.exec(n)?.[1] !== undefined && NODE_NAME.exec(n)?.[1] !== own);
  return other !== undefined ? join(devRoot, other) : undefined;
}

/**
 * The DRM nodes under `sysfsRoot` (default /sys/class/drm), with device files under `devRoot` (default
 * /dev/dri), card nodes first, then by number. An empty list where there is no DRM.
 */
export function listDevices(sysfsRoot = '/sys/class/drm', devRoot = '/dev/dri'): DrmNode[] {
  if (typeof sysfsRoot !== 'string') throw invalidArgType('sysfsRoot', 'string', sysfsRoot);
  if (typeof devRoot !== 'string') throw invalidArgType('devRoot', 'string', devRoot);
  let names: string[];
  try {
    names = readdirSync(sysfsRoot);
  } catch {
    return [];
  }
  const nodes: DrmNode[] = [];
  for (const name of names) {
    const match = NODE_NAME.exec(name);
    if (match === null) continue;
    const entry = join(sysfsRoot, name);
    const minor = Number(/^\d+:(\d+)/.exec(readText(join(entry, 'dev')) ?? '')?.[1] ?? Number.NaN);
    nodes.push({
      name,
      path: join(devRoot, name),
      type: match[1] === 'card' ? 'card' : 'render',
      minor,
      sysfsDriver: sysfsDriverOf(entry),
      sibling: siblingOf(entry, name, devRoot),
    });
  }
  const rank = (n: DrmNode): number => (n.type === 'card' ? 0 : 1);
  return nodes.sort((a, b) => rank(a) - rank(b) || Number(NODE_NAME.exec(a.name)?.[2]) - Number(NODE_NAME.exec(b.name)?.[2]));
}

/** Opens `node` to read its driver version and capabilities; failures are reported in `error`. */
export function describeDevice(node: DrmNode): DrmNodeDescription {
  if (typeof node !== 'object' || node === null || typeof node.path !== 'string') {
    throw invalidArgType('node', 'a DrmNode from listDevices()', node);
  }
  let device: DrmDevice;
  try {
    device = DrmDevice.open(node.path);
  } catch (error) {
    return { ...node, error: (error as Error).message };
  }
  try {
    const caps: Record<string, bigint> = {};
    for (const [name, cap] of Object.entries(DrmCap)) {
      try {
        caps[name] = device.getCap(cap);
      } catch {
        // EOPNOTSUPP/EINVAL: the driver does not report this cap; it is left out.
      }
    }
    return { ...node, version: device.version, caps };
  } finally {
    device.close();
  }
}
