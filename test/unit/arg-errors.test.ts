// SPDX-License-Identifier: MIT
// The package's argument errors read exactly like Node's own: each case is compared with the error Node
// itself throws for the same mistake. Describing a hostile value runs none of its code.
import { openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { invalidArgType, invalidArgValue, outOfRange } from '../../lib/arg-errors.js';

function nodeError(call: () => unknown): Error & { code: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('Node did not throw');
}

function rangeOf(message: string): string {
  return /It must be (.*)\. Received/.exec(message)![1]!;
}

describe('invalidArgType', () => {
  it.each<[string, unknown]>([
    ['a string', 'x'], ['null', null], ['undefined', undefined], ['a bigint', 5n], ['a symbol', Symbol('q')],
    ['a long string with a quote', "it's a long string beyond twenty-eight"], ['NaN', Number.NaN],
    ['-0', -0], ['Infinity', -Infinity], ['a class instance', new Map()], ['a boolean', true],
  ])('words %s as Node does', (_name, value) => {
    const node = nodeError(() => promisify(value as never));
    const ours = invalidArgType('original', 'function', value);
    expect([ours.name, ours.code, ours.message]).toEqual([node.name, node.code, node.message]);
  });

  it('words a function as Node does', () => {
    const value = function named(): void {};
    const node = nodeError(() => Buffer.alloc(value as never));
    expect(invalidArgType('size', 'number', value).message).toBe(node.message);
  });

  it('lists typeof names and classes as Node does', () => {
    const node = nodeError(() => readFileSync({} as never));
    expect(invalidArgType('path', ['string', 'Buffer', 'URL'], {}).message).toBe(node.message);
  });

  it('calls a dotted name a property, and joins long lists with commas', () => {
    expect(invalidArgType('options.signal', ['AbortSignal', 'null', 'a number of ms'], 1).message)
      .toBe('The "options.signal" property must be an instance of AbortSignal or one of null or a number of ms. Received type number (1)');
    expect(invalidArgType('x', ['string', 'number', 'bigint'], true).message)
      .toBe('The "x" argument must be one of type string, number, or bigint. Received type boolean (true)');
  });
});

describe('invalidArgValue', () => {
  it('words a bad value as Node does', () => {
    const node = nodeError(() => openSync('x', 'bogusflag'));
    const ours = invalidArgValue('flags', 'bogusflag');
    expect([ours.name, ours.code, ours.message]).toEqual([node.name, node.code, node.message]);
  });

  it('keeps the message short for a huge string', () => {
    expect(invalidArgValue('name', 'x'.repeat(1 << 20), 'is too long').message.length).toBeLessThan(200);
  });
});

describe('outOfRange', () => {
  it.each([-1, 2 ** 60, -(2 ** 40)])('words %s as Node does', (value) => {
    const node = nodeError(() => Buffer.alloc(value));
    const ours = outOfRange('size', rangeOf(node.message), value);
    expect([ours.name, ours.code, ours.message]).toEqual([node.name, node.code, node.message]);
  });

  it('writes large bigints with separators and an n, as Node does', () => {
    expect(outOfRange('size', 'an integer in [0, 2^64-1]', 1n << 64n).message)
      .toBe('The value of "size" is out of range. It must be an integer in [0, 2^64-1]. Received 18_446_744_073_709_551_616n');
    expect(outOfRange('size', '>= 0', -5n).message).toBe('The value of "size" is out of range. It must be >= 0. Received -5n');
  });

  it('shows a string description as written', () => {
    expect(outOfRange('addr', 'inside the heap', '[0x1000, 0x2000)').message).toMatch(/Received \[0x1000, 0x2000\)$/);
  });
});

describe('describing the received value runs no user code', () => {
  it('reads no getter, valueOf, toPrimitive, custom inspect or Proxy trap', () => {
    let ran = 0;
    const hostile = {
      get constructor() { ran++; return Object; },
      valueOf() { ran++; return 1; },
      toString() { ran++; return 'x'; },
      [Symbol.toPrimitive]() { ran++; return 1; },
      [Symbol.for('nodejs.util.inspect.custom')]() { ran++; return 'x'; },
      get [Symbol.toStringTag]() { ran++; return 'X'; },
    };
    const proxy = new Proxy({}, { get() { ran++; return undefined; }, getPrototypeOf() { ran++; return null; } });
    const overProxy = Object.create(proxy) as object;
    class Named {}
    const trapped = new Proxy(Named, { get() { ran++; return 'Trapped'; } });
    for (const value of [hostile, proxy, overProxy, trapped, new Named()]) {
      invalidArgType('x', 'number', value);
      invalidArgValue('x', value);
      outOfRange('x', '>= 0', value);
    }
    expect(ran).toBe(0);
    expect(invalidArgType('x', 'number', proxy).message).toMatch(/Received an instance of Proxy$/);
    expect(invalidArgType('x', 'number', new Named()).message).toMatch(/Received an instance of Named$/);
    expect(invalidArgType('x', 'number', overProxy).message).toMatch(/Received an instance of Object$/);
  });
});
