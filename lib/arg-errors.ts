// SPDX-License-Identifier: MIT
// The argument errors of the whole package, worded the way Node words its own ERR_INVALID_ARG_TYPE,
// ERR_INVALID_ARG_VALUE and ERR_OUT_OF_RANGE, so a message reads like one from node:fs or node:buffer.
// Describing the received value never runs user code: no getter, valueOf, toString, custom inspect or
// Proxy trap is reached, so building the error cannot change the state the call was refusing to touch.
import { inspect, types } from 'node:util';

type CodedError<E extends Error> = E & { code: string };

function coded<E extends Error>(error: E, code: string): CodedError<E> {
  (error as CodedError<E>).code = code;
  return error as CodedError<E>;
}

// Node's words for typeof results; anything else in an expected list is a class name or a free phrase.
const TYPE_NAMES = new Set(['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']);
const CLASS_NAME = /^([A-Z][a-z0-9]*)+$/;

/**
 * A wrongly typed argument (TypeError, code ERR_INVALID_ARG_TYPE). `expected` lists typeof names
 * ('number'), class names ('DmaBuf') and phrases ('null', 'an integer'), as Node's validators do; a name
 * with a dot ('options.signal') is called a property.
 */
export function invalidArgType(name: string, expected: string | readonly string[], actual: unknown): CodedError<TypeError> {
  const list = typeof expected === 'string' ? [expected] : expected;
  const typeNames: string[] = [];
  const classes: string[] = [];
  const other: string[] = [];
  for (const entry of list) {
    if (TYPE_NAMES.has(entry)) typeNames.push(entry.toLowerCase());
    else if (CLASS_NAME.test(entry)) classes.push(entry);
    else other.push(entry);
  }
  // With instances allowed, a plain object is one more instance kind, as Node words it.
  const objectAt = typeNames.indexOf('object');
  if (classes.length > 0 && objectAt !== -1) {
    typeNames.splice(objectAt, 1);
    classes.push('Object');
  }
  const parts: string[] = [];
  if (typeNames.length > 0) parts.push(typeNames.length === 1 ? `of type ${typeNames[0]}` : `one of type ${joinOr(typeNames)}`);
  if (classes.length > 0) parts.push(`an instance of ${joinOr(classes)}`);
  if (other.length > 0) parts.push(other.length === 1 ? other[0]! : `one of ${joinOr(other)}`);
  return coded(new TypeError(`The ${subject(name)} must be ${parts.join(' or ')}. Received ${describeType(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/**
 * An argument of an accepted type whose value cannot be used (TypeError, code ERR_INVALID_ARG_VALUE).
 * `reason` completes the sentence "The argument 'name' ...".
 */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): CodedError<TypeError> {
  const kind = name.includes('.') ? 'property' : 'argument';
  return coded(new TypeError(`The ${kind} '${name}' ${reason}. Received ${describeValue(value)}`), 'ERR_INVALID_ARG_VALUE');
}

/**
 * A number outside its allowed range (RangeError, code ERR_OUT_OF_RANGE). `range` completes the sentence
 * "It must be ...", e.g. '>= 1 && <= 2^32' or 'a multiple of the page size (4096)'. A string `received` is
 * a description already written for the reader (a range such as '[0x1000, 0x3000)') and is shown as is.
 */
export function outOfRange(name: string, range: string, received: unknown): CodedError<RangeError> {
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${describeNumber(received)}`), 'ERR_OUT_OF_RANGE');
}

/**
 * A method called on a receiver its class's constructor did not make, such as a Proxy of one (TypeError,
 * code ERR_INVALID_THIS, as Node's): the package trusts no fd or state that user code could answer.
 */
export function invalidThis(): CodedError<TypeError> {
  return coded(new TypeError('Value of "this" must be an object the drm-gpuvm constructor made (not a Proxy of one, not one made from its prototype)'), 'ERR_INVALID_THIS');
}

function subject(name: string): string {
  if (name.endsWith(' argument')) return name;
  return `"${name}" ${name.includes('.') ? 'property' : 'argument'}`;
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}

// Node's "type number (5)", "an instance of Foo", "function bar" and so on.
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint': return `type bigint (${value}n)`;
    case 'number': return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'boolean': return `type boolean (${value})`;
    case 'symbol': return `type symbol (${safeSymbol(value)})`;
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${shown.includes("'") ? JSON.stringify(shown) : `'${shown}'`})`;
    }
    case 'function': return `function ${ownName(value) ?? ''}`;
    default: return `an instance of ${constructorName(value as object)}`;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'function' || (typeof value === 'object' && value !== null)) return describeType(value);
  // Primitives only: inspect runs no user code on them. Long strings are cut before inspecting.
  const shown = inspect(typeof value === 'string' && value.length > 128 ? `${value.slice(0, 128)}` : value);
  return shown.length > 128 ? `${shown.slice(0, 128)}...` : shown;
}

function describeNumber(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) return withSeparators(String(value));
  if (typeof value === 'bigint') {
    const digits = String(value);
    return `${value > 2n ** 32n || value < -(2n ** 32n) ? withSeparators(digits) : digits}n`;
  }
  return describeValue(value);
}

// 4294967296 -> 4_294_967_296, as Node prints large integers in ERR_OUT_OF_RANGE.
function withSeparators(digits: string): string {
  const start = digits.startsWith('-') ? 1 : 0;
  let out = '';
  let i = digits.length;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

// Symbol.prototype.description is a getter user code may replace; the original is kept from load time.
const symbolDescription = Object.getOwnPropertyDescriptor(Symbol.prototype, 'description')!.get!;

function safeSymbol(value: symbol): string {
  return `Symbol(${(symbolDescription.call(value) as string | undefined) ?? ''})`;
}

// The name of the constructor of `value`, read from own data properties only: a Proxy, a getter or an
// exotic prototype makes it 'Object' rather than run code.
function constructorName(value: object): string {
  if (types.isProxy(value)) return 'Proxy';
  let proto: object | null = value;
  for (let depth = 0; proto !== null && depth < 64; depth++) {
    if (types.isProxy(proto)) return 'Object';
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'constructor');
    if (descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'function') {
      const name = ownName(descriptor.value as object);
      if (name !== undefined && name !== '') return name;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return 'Object';
}

function ownName(fn: object): string | undefined {
  if (types.isProxy(fn)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(fn, 'name');
  return descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'string' ? descriptor.value : undefined;
}

/** An options argument must be an object (null and primitives are ERR_INVALID_ARG_TYPE, before any of its fields is read). */
export function assertOptionsObject(options: unknown): asserts options is object {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'object', options);
}
