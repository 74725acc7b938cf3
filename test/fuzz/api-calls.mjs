// SPDX-License-Identifier: MIT
// The public API's calls for the fuzzer: every device-layer function and method, with arguments drawn
// from values.mjs and receivers drawn from pools of live (and closed, and dropped) objects. Each action
// returns { name, args, run } (the receiver first), or null when its pool is empty: the child logs name
// and args, then runs. Results are checked as they come:
// every mapping's and view's bytes against the tag written into its memory when it was created, every
// VA window against a model of what it maps, every refusal for a code.
import { types } from 'node:util';
import { describeValue, label } from './describe.mjs';

const MAX = { devices: 3, buffers: 24, dmaBufs: 16, mappings: 24, windows: 4, syncFiles: 8, views: 16, waits: 64, fences: 8 };

/**
 * `api`: dist/index.js. `options.drmPaths`: DRM nodes to open (vgem in the guest; none on the host).
 * `options.classes`: the crash-prone classes this batch covers.
 */
export function apiCalls(api, ctx) {
  const { r, v, fds, classes, failure } = ctx;
  const page = api.pageSize();
  const P = BigInt(page);
  const pools = { devices: [], buffers: [], dmaBufs: [], mappings: [], windows: [], syncFiles: [], views: [], waits: [], fences: [], dropped: 0 };
  const memOf = new WeakMap();
  let nextMem = 1;
  let nextLabel = 1;

  const named = (obj, kind) => label(obj, `${kind}#${nextLabel++}`);
  const add = (pool, obj, kind) => {
    named(obj, kind);
    pools[pool].push(obj);
    if (pools[pool].length > MAX[pool]) closeQuietly(pools[pool].shift());
    return obj;
  };
  const live = (pool) => pools[pool].filter((o) => !o.closed);
  // Now and then a Proxy of a pool object, as the receiver or an argument: refused with a typed error,
  // since its traps could say anything about its fd.
  const maybeProxy = (o) => (o !== undefined && r.chance(0.03) ? label(new Proxy(o, {}), 'Proxy') : o);
  const recv = (pool) => maybeProxy(r.pick(pools[pool]));
  // A buffer past 2^31 bytes maps into more than one ArrayBuffer may hold: the 'huge-map' class, on sparse
  // memory only (software-device memfds). Mapping a vgem buffer pins all its pages (drm_gem_shmem's mmap),
  // so past 64 MiB it would only meet the guest's OOM killer.
  const tooBigToMap = (buffer) => {
    if (memOf.get(buffer)?.sparse !== true) return buffer.size > 1n << 26n;
    return buffer.size > 1n << 31n && !classes.has('huge-map');
  };
  const some = (pool, pAny = 0.08) => (r.chance(pAny) || pools[pool].length === 0 ? v.any() : maybeProxy(r.pick(pools[pool])));

  // Tags: page p of memory m holds tagOf(m, p) at its first and last byte, for the first pages and the
  // last one; the pages in between stay zero. Checked wherever the memory shows up again.
  const tagOf = (mem, p) => ((mem.id * 37 + p * 11) % 251) + 1;
  const taggedPages = (mem) => {
    const pages = Number(mem.size / P);
    const list = [];
    for (let p = 0; p < Math.min(pages, 4); p++) list.push(p);
    if (pages > 4) list.push(pages - 1);
    return list;
  };
  const writeTags = (buffer, sparse) => {
    const mem = { id: nextMem++, size: buffer.size, sparse };
    memOf.set(buffer, mem);
    if (buffer.size > 1n << 24n) { mem.untagged = true; return; }
    const mapping = buffer.map();
    try {
      for (const p of taggedPages(mem)) {
        mapping.bytes[p * page] = tagOf(mem, p);
        mapping.bytes[p * page + page - 1] = tagOf(mem, p);
      }
    } finally {
      mapping.unmap();
    }
  };
  // `bytes` shows memory `mem` from byte `start`: every tagged page inside must carry its tag.
  const checkBytes = (mem, start, bytes, what) => {
    if (mem === undefined || mem.untagged) return;
    const end = start + bytes.byteLength;
    for (const p of taggedPages(mem)) {
      for (const at of [p * page, p * page + page - 1]) {
        if (at >= start && at < end && bytes[at - start] !== tagOf(mem, p)) {
          failure('wrong-memory', `${what}: byte ${at} of memory ${mem.id} is ${bytes[at - start]}, its tag is ${tagOf(mem, p)}`);
          return;
        }
      }
    }
    const middle = Math.floor(Number(mem.size / P) / 2);
    if (middle >= 4 && middle < Number(mem.size / P) - 1) {
      const at = middle * page;
      if (at >= start && at < end && bytes[at - start] !== 0) failure('wrong-memory', `${what}: untagged byte ${at} of memory ${mem.id} is ${bytes[at - start]}`);
    }
  };
  const plainOffset = (x) => (typeof x === 'bigint' ? x : typeof x === 'number' && Number.isSafeInteger(x) ? BigInt(x) : null);
  // An option's value when `options` is a plain object holding it as data (no getter ran), else null.
  const isPlain = (options) => typeof options === 'object' && options !== null && !types.isProxy(options) && Object.getPrototypeOf(options) === Object.prototype &&
    Object.getOwnPropertyNames(options).every((k) => 'value' in Object.getOwnPropertyDescriptor(options, k));
  const plainOption = (options, key, fallback) => {
    if (options === undefined) return fallback;
    if (!isPlain(options)) return null;
    return options[key] === undefined ? fallback : plainOffset(options[key]);
  };

  const trackMapping = (mapping, mem, offset) => {
    add('mappings', mapping, 'mapping');
    memOf.set(mapping, { mem, offset });
    if (offset !== null) checkBytes(mem, Number(offset), mapping.bytes, 'map');
  };

  const newWindowModel = (window) => { window.model = new Map(); window.modeled = true; return window; };
  const sabotage = () => {
    switch (Math.floor(r.random() * 4)) {
      case 0: { const o = r.pick([...pools.buffers, ...pools.dmaBufs, ...pools.devices]); if (o) o.close(); break; }
      case 1: { const m = r.pick(pools.mappings); if (m) m.unmap(); break; }
      case 2: {
        const w = r.pick(live('windows'));
        if (w) { w.modeled = false; try { w.unmap(0, P * BigInt(1 + Math.floor(r.random() * 4))); } catch { /* refused */ } }
        break;
      }
      default: { const w = r.pick(pools.windows); if (w) w.close(); }
    }
  };
  ctx.setSabotage(sabotage);

  const mapOptions = (size) => v.options(() => {
    const o = {};
    if (r.chance(0.5)) o.offset = r.chance(0.7) ? P * BigInt(Math.floor(r.random() * 4)) : v.size();
    if (r.chance(0.4)) o.length = r.chance(0.7) ? P * BigInt(1 + Math.floor(r.random() * 3)) : v.size();
    if (r.chance(0.05)) o.length = size;
    return o;
  });
  const access = () => (r.chance(0.8) ? r.pick(['read', 'write', 'readwrite']) : v.any());
  const sourceFor = () => maybeProxy(r.pick([...pools.buffers, ...pools.dmaBufs])) ?? v.any();

  const checkWindowViews = (window) => {
    for (const entry of pools.views) {
      if (entry.window !== window) continue;
      const length = entry.view.byteLength;
      if (length === 0) continue;
      if (window.closed) { failure('wrong-memory', 'a view of a closed window is still attached'); continue; }
      if (!window.modeled) continue;
      for (let p = entry.offset / P; p < (entry.offset + BigInt(length)) / P; p++) {
        if (!window.model.has(p)) { failure('wrong-memory', `a view still shows window page ${p}, which is no longer mapped`); break; }
      }
    }
  };

  const actions = [
    ['new SoftwareDevice', 3, () => ({ args: [], run: () => add('devices', new api.SoftwareDevice(), 'software') })],
    ...ctx.drmPaths.map((path) => [`DrmDevice.open(${path})`, 3, () => ({ args: [path], run: () => add('devices', api.DrmDevice.open(path), 'drm') })]),
    ['DrmDevice.open', 1, () => {
      const paths = classes.has('open-non-drm') ? ['/dev/null', '/proc/self/status', '/tmp', '/nonexistent', ''] : ['/nonexistent', ''];
      const path = r.chance(0.8) ? r.pick(paths) : v.any();
      return { args: [path], run: () => add('devices', api.DrmDevice.open(path), 'drm') };
    }],
    ['openDevice', 1, () => {
      const path = classes.has('open-non-drm') && r.chance(0.5) ? '/dev/null' : r.chance(0.3) && ctx.drmPaths.length > 0 ? r.pick(ctx.drmPaths) : v.any();
      return { args: [path], run: () => add('devices', api.openDevice(path), 'device') };
    }],
    ['listDevices', 1, () => { const a = r.chance(0.5) ? [] : [v.any(), v.any()]; return { args: a, run: () => api.listDevices(...a) }; }],
    ['describeDevice', 1, () => {
      const node = r.chance(0.3) ? v.any() : { path: r.pick([...ctx.drmPaths, '/nonexistent', ...(classes.has('open-non-drm') ? ['/dev/null'] : [])]), name: 'card0', type: 'card' };
      return { args: [node], run: () => api.describeDevice(node) };
    }],
    ['createBuffer', 12, () => {
      const device = recv('devices'); if (device === undefined) return null;
      const sparse = device instanceof api.SoftwareDevice;
      const huge = classes.has('huge-map') && sparse && r.chance(0.02);
      const size = huge ? r.pick([2 ** 32 + 4096, 2 ** 31 + 4096, 2 ** 33]) : r.chance(0.85) ? r.pick(ctx.sizes) : v.size();
      return { args: [device, size], run: () => {
        const buffer = device.createBuffer(size);
        add('buffers', buffer, 'buffer');
        writeTags(buffer, sparse);
        if (huge) buffer.map().unmap();
        return buffer;
      } };
    }],
    ['buffer.map', 10, () => {
      const buffer = recv('buffers'); if (buffer === undefined || tooBigToMap(buffer)) return null;
      const options = mapOptions(buffer.size);
      return { args: [buffer, options], run: () => {
        const mapping = buffer.map(options);
        trackMapping(mapping, memOf.get(buffer), plainOption(options, 'offset', 0n));
        return mapping;
      } };
    }],
    ['buffer.exportDmaBuf', 6, () => {
      const buffer = recv('buffers'); if (buffer === undefined) return null;
      const options = r.chance(0.7) ? undefined : v.options(() => ({ writable: r.pick([true, false]) }));
      return { args: [buffer, options], run: () => {
        const dmaBuf = options === undefined ? buffer.exportDmaBuf() : buffer.exportDmaBuf(options);
        memOf.set(dmaBuf, memOf.get(buffer));
        return add('dmaBufs', dmaBuf, 'dmabuf');
      } };
    }],
    ['device.importDmaBuf', 5, () => {
      const device = recv('devices'); if (device === undefined) return null;
      const dmaBuf = some('dmaBufs', 0.15);
      return { args: [device, dmaBuf], run: () => {
        const buffer = device.importDmaBuf(dmaBuf);
        memOf.set(buffer, memOf.get(dmaBuf));
        return add('buffers', buffer, 'buffer');
      } };
    }],
    ['DmaBuf.fromFd', 3, () => {
      const fd = r.chance(0.5) ? r.pick(fds.numbers) : r.chance(0.5) && pools.dmaBufs.length > 0 ? r.pick(pools.dmaBufs).fd : v.any();
      return { args: [fd], run: () => add('dmaBufs', api.DmaBuf.fromFd(fd), 'dmabuf') };
    }],
    ['dmaBuf.map', 6, () => {
      const dmaBuf = recv('dmaBufs'); if (dmaBuf === undefined || tooBigToMap(dmaBuf)) return null;
      const options = mapOptions(dmaBuf.size);
      return { args: [dmaBuf, options], run: () => {
        const mapping = dmaBuf.map(options);
        trackMapping(mapping, memOf.get(dmaBuf), plainOption(options, 'offset', 0n));
        return mapping;
      } };
    }],
    ['dmaBuf.beginCpuAccess', 2, () => {
      const d = recv('dmaBufs'); if (d === undefined) return null; const a = access(); const block = r.chance(0.05);
      // The blocking form on a buffer with a pending vgem fence parks the thread until the fence signals or
      // times out (10 s), so most such calls take the asynchronous form; a few still block for real.
      return { args: [d, a], run: () => (block || idleFor(d, a) ? d.beginCpuAccess(a) : trackWait(d.beginCpuAccessAsync(a, { timeoutMs: 0 }))) };
    }],
    ['dmaBuf.endCpuAccess', 2, () => { const d = recv('dmaBufs'); if (d === undefined) return null; const a = access(); return { args: [d, a], run: () => d.endCpuAccess(a) }; }],
    ['dmaBuf.isIdle', 2, () => { const d = recv('dmaBufs'); if (d === undefined) return null; const a = access(); return { args: [d, a], run: () => d.isIdle(a) }; }],
    ['dmaBuf.exportSyncFile', 3, () => {
      const d = recv('dmaBufs'); if (d === undefined) return null; const a = access();
      return { args: [d, a], run: () => add('syncFiles', d.exportSyncFile(a), 'syncfile') };
    }],
    ['dmaBuf.importSyncFile', 2, () => {
      const d = recv('dmaBufs'); if (d === undefined) return null; const s = some('syncFiles', 0.2); const a = access();
      return { args: [d, s, a], run: () => d.importSyncFile(s, a) };
    }],
    ['dmaBuf.waitIdle', 3, () => {
      const d = recv('dmaBufs'); if (d === undefined) return null;
      const options = v.options(() => ({ timeoutMs: r.pick([0, 1, 2]), ...(r.chance(0.3) ? { access: access() } : {}), ...(r.chance(0.2) ? { signal: r.chance(0.5) ? AbortSignal.abort() : AbortSignal.timeout(1) } : {}) }));
      return { args: [d, options], run: () => trackWait(d.waitIdle(options)) };
    }],
    ['SyncFile.fromFd', 2, () => {
      const fd = r.chance(0.6) ? r.pick(fds.numbers) : r.chance(0.5) && pools.syncFiles.length > 0 ? r.pick(pools.syncFiles).fd : v.any();
      return { args: [fd], run: () => add('syncFiles', api.SyncFile.fromFd(fd), 'syncfile') };
    }],
    ['syncFile.info', 2, () => { const s = recv('syncFiles'); if (s === undefined) return null; return { args: [s], run: () => s.info() }; }],
    ['syncFile.isSignaled', 2, () => { const s = recv('syncFiles'); if (s === undefined) return null; return { args: [s], run: () => s.isSignaled() }; }],
    ['syncFile.wait', 2, () => {
      const s = recv('syncFiles'); if (s === undefined) return null;
      const options = v.options(() => ({ timeoutMs: r.pick([0, 1]) }));
      return { args: [s, options], run: () => trackWait(s.wait(options)) };
    }],
    ['syncFile.merge', 2, () => {
      const s = recv('syncFiles'); if (s === undefined) return null; const o = some('syncFiles', 0.2); const name = r.chance(0.8) ? undefined : v.any();
      return { args: [s, o, name], run: () => add('syncFiles', s.merge(o, name), 'syncfile') };
    }],
    ['attachVgemFence', 3, () => {
      const b = some('buffers', 0.15);
      const options = r.chance(0.5) ? undefined : v.options(() => ({ write: r.pick([true, false]) }));
      return { args: [b, options], run: () => add('fences', api.attachVgemFence(b, options), 'fence') };
    }],
    ['fence.signal', 2, () => { const f = recv('fences'); if (f === undefined) return null; return { args: [f], run: () => f.signal() }; }],
    ['Syncobj.create', 1, () => {
      const d = some('devices', 0.3); const o = r.chance(0.5) ? undefined : v.options(() => ({ signaled: r.pick([true, false]) }));
      return { args: [d, o], run: () => api.Syncobj.create(d, o).close() };
    }],
    ['VaWindow.reserve', 3, () => {
      const size = r.chance(0.8) ? P * BigInt(r.pick([1, 4, 16, 256])) : v.size();
      return { args: [size], run: () => add('windows', newWindowModel(api.VaWindow.reserve(size)), 'window') };
    }],
    ['window.map', 10, () => {
      const w = recv('windows'); if (w === undefined) return null;
      const offset = r.chance(0.8) ? P * BigInt(Math.floor(r.random() * 20)) : v.size();
      const source = r.chance(0.9) ? sourceFor() : v.any();
      const options = v.options(() => ({
        ...(r.chance(0.4) ? { sourceOffset: P * BigInt(Math.floor(r.random() * 3)) } : {}),
        ...(r.chance(0.5) ? { length: P * BigInt(1 + Math.floor(r.random() * 3)) } : {}),
      }));
      return { args: [w, offset, source, options], run: () => {
        w.map(offset, source, options);
        const at = plainOffset(offset);
        const sourceOffset = plainOption(options, 'sourceOffset', 0n);
        const length = sourceOffset === null ? null : plainOption(options, 'length', source.size - sourceOffset);
        if (at === null || sourceOffset === null || length === null) { w.modeled = false; return; }
        const mem = memOf.get(source);
        for (let i = 0n; i < length / P; i++) w.model.set(at / P + i, { mem, page: Number(sourceOffset / P + i), source: describeValue(source) });
        checkWindowViews(w);
      } };
    }],
    ['window.unmap', 6, () => {
      const w = recv('windows'); if (w === undefined) return null;
      const offset = r.chance(0.8) ? P * BigInt(Math.floor(r.random() * 20)) : v.size();
      const length = r.chance(0.8) ? P * BigInt(1 + Math.floor(r.random() * 6)) : v.size();
      return { args: [w, offset, length], run: () => {
        w.unmap(offset, length);
        const at = plainOffset(offset); const n = plainOffset(length);
        if (at === null || n === null) { w.modeled = false; return; }
        for (let p = at / P; p < (at + n) / P; p++) w.model.delete(p);
        checkWindowViews(w);
      } };
    }],
    ['window.view', 6, () => {
      const w = recv('windows'); if (w === undefined) return null;
      const offset = r.chance(0.8) ? P * BigInt(Math.floor(r.random() * 20)) : v.size();
      const length = r.chance(0.8) ? P * BigInt(1 + Math.floor(r.random() * 3)) : v.size();
      return { args: [w, offset, length], run: () => {
        const view = w.view(offset, length);
        const at = plainOffset(offset);
        if (at === null) return;
        const bytes = new Uint8Array(view);
        if (w.modeled) {
          for (let i = 0; i < bytes.byteLength / page; i++) {
            const entry = w.model.get(at / P + BigInt(i));
            if (entry === undefined) { failure('wrong-memory', `view gave window page ${at / P + BigInt(i)}, which the model says is a hole`); return; }
            checkBytes(entry.mem, entry.page * page, bytes.subarray(i * page, (i + 1) * page), `view (window page ${at / P + BigInt(i)}: page ${entry.page} of ${entry.source})`);
          }
        }
        pools.views.push({ window: w, offset: at, view });
        if (pools.views.length > MAX.views) pools.views.shift();
      } };
    }],
    ['window.mappedRanges', 4, () => {
      const w = recv('windows'); if (w === undefined) return null;
      const setter = classes.has('proto-setter') && r.chance(0.2);
      return { args: [w], run: () => {
        if (setter) Object.defineProperty(Array.prototype, '0', { set() { ctx.sabotage(); }, configurable: true });
        let ranges;
        try { ranges = w.mappedRanges(); } finally { if (setter) delete Array.prototype[0]; }
        if (!w.modeled) return;
        let covered = 0n;
        for (const range of ranges) {
          for (let p = range.offset / P; p < range.end / P; p++) if (!w.model.has(p)) { failure('wrong-memory', `mappedRanges lists page ${p}, the model has a hole`); return; }
          covered += (range.end - range.offset) / P;
        }
        if (covered !== BigInt(w.model.size)) failure('wrong-memory', `mappedRanges covers ${covered} pages, the model ${w.model.size}`);
      } };
    }],
    ['mapping.unmap', 4, () => { const m = recv('mappings'); if (m === undefined) return null; return { args: [m], run: () => m.unmap() }; }],
    ['mapping.check', 4, () => {
      const m = recv('mappings'); if (m === undefined) return null;
      return { args: [m], run: () => {
        const bytes = m.bytes;
        const origin = memOf.get(m);
        if (bytes.byteLength > 0 && origin !== undefined && origin.offset !== null) checkBytes(origin.mem, Number(origin.offset), bytes, 'mapping');
      } };
    }],
    ['close', 6, () => {
      const pool = r.pick(['devices', 'buffers', 'dmaBufs', 'windows', 'syncFiles']);
      const o = recv(pool);
      if (o === undefined) return null;
      return { args: [o], run: () => { o.close(); if (pool === 'windows') checkWindowViews(o); } };
    }],
    ['drop', 2, () => {
      const pool = r.pick(['devices', 'buffers', 'dmaBufs', 'windows', 'syncFiles', 'mappings']);
      return { args: [], run: () => { if (pools[pool].length > 0) { pools[pool].splice(Math.floor(r.random() * pools[pool].length), 1); pools.dropped++; } } };
    }],
    ['toU64', 1, () => { const x = v.any(); return { args: [x], run: () => api.toU64(x, 'x') }; }],
    ['createMemfd', 1, () => {
      const size = r.chance(0.7) ? r.pick(ctx.sizes) : v.size();
      return { args: [size], run: () => { const d = api.createMemfd(size); memOf.set(d, { id: nextMem++, size: d.size, untagged: true, sparse: true }); return add('dmaBufs', d, 'memfd'); } };
    }],
    ['createUdmabuf', 1, () => {
      const memfd = some('dmaBufs', 0.2); const offset = r.chance(0.7) ? 0n : v.size(); const size = r.chance(0.7) ? P : v.size();
      return { args: [memfd, offset, size], run: () => add('dmaBufs', api.createUdmabuf(memfd, offset, size), 'udmabuf') };
    }],
    ['issueIoctlCall', 1, () => {
      const d = some('devices', 0.3); const call = r.chance(0.5) ? v.any() : { driver: 'vgem', ioctl: { name: 'X' }, request: v.number(), buffers: [new Uint8Array(8)], pointers: [] };
      return { args: [d, call], run: () => api.issueIoctlCall(d, call) };
    }],
  ];

  const idleFor = (d, a) => {
    try {
      return d.isIdle(a);
    } catch {
      return true;
    }
  };
  const trackWait = (wait) => {
    if (wait !== null && typeof wait === 'object' && typeof wait.then === 'function') {
      // Awaited or not, at random: an unawaited wait must neither keep the process alive nor crash it.
      if (!classes.has('unawaited-wait') || r.chance(0.7)) pools.waits.push(Promise.resolve(wait).catch(() => undefined));
      if (pools.waits.length > MAX.waits) pools.waits.shift();
    }
    return wait;
  };

  const weighted = [];
  for (const [name, weight, make] of actions) for (let i = 0; i < weight; i++) weighted.push([name, make]);

  function closeQuietly(o) {
    try { if (typeof o?.close === 'function') o.close(); else if (typeof o?.unmap === 'function') o.unmap(); } catch { /* already closed */ }
  }

  return {
    /** ' (memory N)' for an object that shows tagged memory, for the log. */
    memoryOf(o) {
      const m = memOf.get(o);
      const id = m?.id ?? m?.mem?.id;
      return id === undefined ? '' : ` (memory ${id})`;
    },
    next() {
      for (;;) {
        const [name, make] = r.pick(weighted);
        const call = make();
        if (call !== null) return { name, ...call };
      }
    },
    async closeAll() {
      for (const pool of ['mappings', 'fences', 'syncFiles', 'windows', 'dmaBufs', 'buffers', 'devices']) {
        for (const o of pools[pool].splice(0)) closeQuietly(o);
      }
      await Promise.race([Promise.allSettled(pools.waits.splice(0).map((w) => Promise.resolve(w))), new Promise((resolve) => setTimeout(resolve, 5000))]);
      pools.views.length = 0;
      return { dropped: pools.dropped };
    },
  };
}
