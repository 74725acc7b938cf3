// SPDX-License-Identifier: MIT
// `drm-gpuvm info [--json]`: every DRM node with its type, driver, version, capabilities and sibling, and
// what openGpu makes of it (backend, sparse, CPU view of the VA space, page sizes, refusals); then the
// software device openGpu falls back to.
import { describeDevice, listDevices } from '../drm/discovery.js';
import type { DrmNodeDescription } from '../drm/discovery.js';
import { backendFor, describeBackend } from '../backends/kernel-backend-catalogue.js';
import type { GpuDescription } from '../gpu/description.js';
import { openGpu } from '../gpu/open-gpu.js';
import { runCommand } from './command-line.js';
import { writeJson } from './json-output.js';

const USAGE = `usage: drm-gpuvm info [--json]
  --json  print one JSON object: {"nodes": [...], "software": {...}}, one entry per DRM node, then the
          software device
`;

const SPEC = { name: 'info', usage: USAGE, options: { json: { type: 'boolean' } } } as const;

/** What openGpu says about a node: its description, or why it has no backend here. */
type GpuAnswer = { gpu: GpuDescription } | { gpuError: string };

function gpuAnswer(path: string): GpuAnswer {
  try {
    using gpu = openGpu(path);
    return { gpu: gpu.describe() };
  } catch (error) {
    return { gpuError: (error as Error).message };
  }
}

function yesNo(feature: { supported: boolean }): string {
  return feature.supported ? 'yes' : 'no';
}

function gpuText(answer: GpuAnswer, indent: string): string[] {
  if ('gpuError' in answer) return [`${indent}openGpu: refused (${answer.gpuError})`];
  const d = answer.gpu;
  return [
    `${indent}openGpu: ${d.backend} backend (${d.binds})`,
    `${indent}  sparse: ${yesNo(d.sparse)} (${d.sparse.how}); CPU view of the VA space: ${yesNo(d.cpuVaAccess)}; BO CPU mapping: ${yesNo(d.boCpuMapping)}; bind fences as syncobjs: ${yesNo(d.bindSyncobjs)}; startJob fences: ${yesNo(d.jobs)}; GPU commands (vm.exec): ${yesNo(d.exec)}; page sizes: ${d.pageSizes.join(', ')}`,
    ...d.refused.map((r) => `${indent}  refuses ${r.what}: ${r.why}`),
  ];
}

function describeText(node: DrmNodeDescription & { gpu?: GpuDescription; gpuError?: string }): string {
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
  if (node.gpu !== undefined || node.gpuError !== undefined) lines.push(...gpuText(node as GpuAnswer, '  '));
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
    const nodes = listDevices().map(describeDevice).map((node) => (node.version === undefined ? node : { ...node, ...gpuAnswer(node.path) }));
    const software = gpuAnswer('software');
    if (values.json === true) {
      writeJson({
        nodes: nodes.map((node) => node.version === undefined ? node : { ...node, vmBindBackend: backendFor(node.version.name) ?? null }),
        software: 'gpu' in software ? software.gpu : null,
      });
      return 0;
    }
    const fallback = ['software device (what openGpu() opens where no node is usable)', ...gpuText(software, '  ')].join('\n');
    if (nodes.length === 0) {
      process.stdout.write('No DRM devices: /sys/class/drm lists no card or render nodes on this machine.\n' +
        '(`drm-gpuvm demo` falls back to the memfd-backed software device.)\n\n' + `${fallback}\n`);
      return 0;
    }
    process.stdout.write(`${nodes.map(describeText).join('\n\n')}\n\n${fallback}\n`);
    return 0;
  });
}
