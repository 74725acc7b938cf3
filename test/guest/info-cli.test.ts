// SPDX-License-Identifier: MIT
// `drm-gpuvm info` on a real vgem (inside `drm-gpuvm vm`): both nodes listed with driver, sibling and the
// backends the device gets (no kernel VM_BIND backend on vgem; the VA window is always available).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../lib/cli/info.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('info-cli (vgem)', vgem);

function captureStdout(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join('') };
}

describe.skipIf(!vgem.ready)('drm-gpuvm info on vgem', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('--json lists the card and render node of vgem as siblings, with no kernel VM_BIND backend', async () => {
    const out = captureStdout();
    expect(await run(['--json'])).toBe(0);
    const { nodes, software } = JSON.parse(out.text()) as {
      nodes: { path: string; type: string; sibling?: string; version?: { name: string }; vmBindBackend?: unknown; gpu?: unknown }[];
      software: unknown;
    };
    const card = nodes.find((n) => vgem.ready && n.path === vgem.card);
    const render = nodes.find((n) => vgem.ready && n.path === vgem.render);
    expect(card).toMatchObject({ type: 'card', version: { name: 'vgem' }, vmBindBackend: null });
    expect(render).toMatchObject({ type: 'render', version: { name: 'vgem' } });
    expect(card?.sibling).toBe(render?.path);
    expect(card?.gpu).toMatchObject({ driver: 'vgem', backend: 'va-window', cpuVaAccess: { supported: true }, jobs: { supported: true } });
    expect(software).toMatchObject({ driver: 'software', backend: 'va-window' });
  });

  it('the text form says which backends the device gets', async () => {
    const out = captureStdout();
    expect(await run([])).toBe(0);
    expect(out.text()).toContain('VM_BIND backend: vgem: no kernel VM_BIND backend');
    expect(out.text()).toContain('VA window backend: yes');
    expect(out.text()).toContain('openGpu: va-window backend');
  });
});
