// SPDX-License-Identifier: MIT
// `drm-gpuvm info [--json]`: every DRM node with its type, driver, version, capabilities and sibling.
import { describeDevice, listDevices } from '../drm/discovery.js';
import type { DrmNodeDescription } from '../drm/discovery.js';
import { backendFor, describeBackend } from '../backends/kernel-backend-catalogue.js';
import { runCommand } from './command-line.js';
import { writeJson } from './json-output.js';

const USAGE = `usage: drm-gpuvm info [--json]
  --json  print one JSON object: {"nodes": [...]}, one entry per DRM node
`;

const SPEC = { name: 'info', usage: USAGE, options: { json: { type: 'boolean' } } } as const;

function describeText(node: DrmNodeDescription): string {
  const lines = [`${node.path}  ${node.type} node, minor ${node.minor}`];
  if (node.sibling !== undefined) lines.push(`  sibling: ${node.sibling}`);
  if (node.sysfsDriver !== undefined) lines.push(`  sysfs driver: ${node.sysfsDriver}`);
  if (node.version !== undefined) {
    const v = node.version;
    lines.push(`  driver: ${v.name} ${v.major}.${v.minor}.${v.patchlevel} (${v.desc}${v.date !== '' && v.date !== '0' ? `, ${v.date}` : ''})`);
  }
  if (node.version !== undefined) {
    lines.push(`  VM_BIND backend: ${describeBackend(node.version.name)}`);
    lines.push('  VA window backend: yes (where BO memory comes from and which offsets map correctly is probed on first use)');
  }
  if (node.caps !== undefined) {
    const caps = Object.entries(node.caps).map(([name, value]) => `${name}=${value}`);
    lines.push(`  caps: ${caps.length > 0 ? caps.join(' ') : 'none reported'}`);
  }
  if (node.error !== undefined) lines.push(`  cannot open: ${node.error}`);
  return lines.join('\n');
}

/** Runs `drm-gpuvm info`. */
export async function run(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, ({ values }) => {
    const nodes = listDevices().map(describeDevice);
    if (values.json === true) {
      writeJson({ nodes: nodes.map((node) => node.version === undefined ? node : { ...node, vmBindBackend: backendFor(node.version.name) ?? null }) });
      return 0;
    }
    if (nodes.length === 0) {
      process.stdout.write('No DRM devices: /sys/class/drm lists no card or render nodes on this machine.\n' +
        '(`drm-gpuvm demo` falls back to the memfd-backed software device.)\n');
      return 0;
    }
    process.stdout.write(`${nodes.map(describeText).join('\n\n')}\n`);
    return 0;
  });
}
