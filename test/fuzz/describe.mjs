// SPDX-License-Identifier: MIT
// Names a call's arguments for the log line written before the call, without running any of their code:
// pool objects by label ('buffer#3'), hostile objects by kind, everything else by type and short value.
import { types } from 'node:util';

const labels = new WeakMap();

/** Gives `object` a label the log shows instead of its contents. */
export function label(object, name) {
  if ((typeof object === 'object' && object !== null) || typeof object === 'function') labels.set(object, name);
  return object;
}

export function describeValue(value) {
  switch (typeof value) {
    case 'bigint': return `${value}n`;
    case 'string': return value.length > 16 ? `'${value.slice(0, 12)}...'(${value.length})` : JSON.stringify(value);
    case 'symbol': return 'Symbol()';
    case 'function': return labels.get(value) ?? 'function';
    case 'object': {
      if (value === null) return 'null';
      const known = labels.get(value);
      if (known !== undefined) return known;
      if (types.isProxy(value)) return 'Proxy';
      if (Array.isArray(value)) return `[${value.length}]`;
      if (ArrayBuffer.isView(value)) return `${Object.getPrototypeOf(value)?.constructor?.name ?? 'view'}(${value.length})`;
      return describePlainObject(value);
    }
    default: return String(value);
  }
}

// A plain object of data properties shows its fields ({ offset: 4096n }), read from its descriptors so no
// getter runs; any other object is 'object'.
function describePlainObject(value) {
  if (Object.getPrototypeOf(value) !== Object.prototype) return 'object';
  const fields = Object.entries(Object.getOwnPropertyDescriptors(value));
  if (fields.length > 4 || fields.some(([, d]) => !('value' in d))) return 'object';
  const shown = fields.map(([key, d]) => `${key}: ${typeof d.value === 'object' && d.value !== null ? labels.get(d.value) ?? 'object' : describeValue(d.value)}`);
  return `{ ${shown.join(', ')} }`;
}

export function describeCall(name, args) {
  return `${name}(${args.map(describeValue).join(', ')})`;
}
