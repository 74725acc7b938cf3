// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { readModInfo } from '../../../lib/qemu/modinfo.js';
import { normalizeModuleName, resolveModules, stripModuleSignature } from '../../../lib/qemu/kernel-modules.js';
import { elfWithSections, fakeModule } from './elf-fixture.js';

describe('.modinfo reader', () => {
  it('reads the name and the dependencies in order', () => {
    expect(readModInfo(fakeModule('vgem', ['drm', 'drm_shmem_helper']), 'vgem.ko')).toEqual({ name: 'vgem', depends: ['drm', 'drm_shmem_helper'] });
  });

  it('reads an empty depends= as no dependencies', () => {
    expect(readModInfo(fakeModule('virtio', []), 'virtio.ko').depends).toEqual([]);
  });

  it.each([
    ['not an ELF file', Buffer.from('hello world, this is not an elf file at all; padding padding padding')],
    ['no .modinfo section', elfWithSections([{ name: '.text', data: Buffer.alloc(8) }])],
  ])('refuses a file with %s', (text, file) => {
    expect(() => readModInfo(file, 'x.ko')).toThrow(text);
  });
});

describe('module load order', () => {
  // A tree like bookworm's: 9p needs 9pnet, netfs, fscache; vgem needs drm and drm_shmem_helper.
  const tree: Record<string, string[]> = {
    '9p': ['9pnet', 'netfs', 'fscache'],
    '9pnet_virtio': ['9pnet', 'virtio_ring', 'virtio'],
    '9pnet': [],
    netfs: ['fscache'],
    fscache: [],
    virtio_ring: [],
    virtio: [],
    vgem: ['drm', 'drm_shmem_helper'],
    drm_shmem_helper: ['drm'],
    drm: [],
  };
  const index = new Map(Object.keys(tree).map((n) => [n, `/m/${n}.ko`]));
  const read = (path: string) => fakeModule(path.slice(3, -3), tree[path.slice(3, -3)]!);
  const names = (mods: { name: string }[]) => mods.map((m) => m.name);

  it('puts every module after its dependencies, each once', () => {
    const order = names(resolveModules([{ module: '9pnet_virtio', mayBeBuiltIn: false }, { module: '9p', mayBeBuiltIn: false }], index, new Set(), read));
    expect(order).toEqual(['9pnet', 'virtio_ring', 'virtio', '9pnet_virtio', 'fscache', 'netfs', '9p']);
  });

  it('skips modules an earlier layer already loads', () => {
    expect(names(resolveModules([{ module: 'vgem', mayBeBuiltIn: false }], index, new Set(['drm']), read))).toEqual(['drm_shmem_helper', 'vgem']);
  });

  it('takes a name missing from the tree as built in when allowed', () => {
    expect(resolveModules([{ module: 'virtio_pci', mayBeBuiltIn: true }], index, new Set(), read)).toEqual([]);
  });

  it('refuses a missing module that must be loadable', () => {
    expect(() => resolveModules([{ module: 'nosuch', mayBeBuiltIn: false }], index, new Set(), read)).toThrow(
      expect.objectContaining({ code: 'ERR_QEMU_MODULE', message: expect.stringContaining("'nosuch'") }),
    );
  });

  it('loads a .ko path of the user own after its in-tree dependencies', () => {
    const own = (path: string) => (path === '/build/vgpuvm.ko' ? fakeModule('vgpuvm', ['drm']) : read(path));
    expect(names(resolveModules([{ module: '/build/vgpuvm.ko', mayBeBuiltIn: false }], index, new Set(), own))).toEqual(['drm', 'vgpuvm']);
  });

  it('reports an unreadable module file as a module error', () => {
    const failing = () => {
      throw new Error('ENOENT');
    };
    expect(() => resolveModules([{ module: '/nope/x.ko', mayBeBuiltIn: false }], index, new Set(), failing)).toThrow(
      expect.objectContaining({ code: 'ERR_QEMU_MODULE' }),
    );
  });

  it('reports a dependency cycle instead of recursing forever', () => {
    const cyclic = (path: string) => fakeModule(path, path.includes('drm.') ? ['vgem'] : ['drm']);
    expect(() => resolveModules([{ module: 'vgem', mayBeBuiltIn: false }], index, new Set(), cyclic)).toThrow('cycle');
  });

  it('folds dashes into underscores as the kernel does', () => {
    expect(normalizeModuleName('9pnet-virtio')).toBe('9pnet_virtio');
  });
});

describe('module signature stripping', () => {
  const magic = Buffer.from('~Module signature appended~\n');
  const info = (sigLen: number) => {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(sigLen, 8);
    return b;
  };

  it('cuts the signature, its info block and the magic', () => {
    const body = Buffer.from('ELF-body');
    expect(stripModuleSignature(Buffer.concat([body, Buffer.alloc(5, 0xee), info(5), magic]))).toEqual(body);
  });

  it('leaves an unsigned module as it is', () => {
    const body = Buffer.from('ELF-body-without-signature-but-long-enough-for-the-check');
    expect(stripModuleSignature(body)).toBe(body);
  });
});
