// SPDX-License-Identifier: MIT
// A CPU mapping of a buffer, handed to JS as an ArrayBuffer. unmap() detaches the ArrayBuffer before the
// memory goes away, so every view of it reads as empty afterwards and JS never reaches unmapped memory.
// Its methods refuse a receiver that is not a real Mapping (a Proxy of one) with ERR_INVALID_THIS.
import { invalidThis } from '../arg-errors.js';
import { native } from '../native.js';
import { useAfterClose } from './errors.js';

/** A mapped range of a Buffer or DmaBuf. */
export class Mapping implements Disposable {
  /** Byte offset of the mapping in its buffer. */
  readonly offset: bigint;
  /** Length in bytes. */
  readonly length: number;
  #arrayBuffer: ArrayBuffer | undefined;
  readonly #onUnmap: (mapping: Mapping) => void;

  /** @internal Made by Buffer.map and DmaBuf.map. */
  constructor(arrayBuffer: ArrayBuffer, offset: bigint, onUnmap: (mapping: Mapping) => void) {
    this.#arrayBuffer = arrayBuffer;
    this.offset = offset;
    this.length = arrayBuffer.byteLength;
    this.#onUnmap = onUnmap;
  }

  /** Whether the memory is still mapped. */
  get mapped(): boolean {
    Mapping.#assertReal(this);
    return this.#arrayBuffer !== undefined;
  }

  /** The mapped memory; detached (byteLength 0) once unmapped. Throws ERR_USE_AFTER_CLOSE after unmap. */
  get arrayBuffer(): ArrayBuffer {
    Mapping.#assertReal(this);
    if (this.#arrayBuffer === undefined) throw useAfterClose('Mapping');
    return this.#arrayBuffer;
  }

  /** A byte view of the whole mapping. Throws ERR_USE_AFTER_CLOSE after unmap. */
  get bytes(): Uint8Array {
    return new Uint8Array(this.arrayBuffer);
  }

  /** Unmaps; later calls do nothing. The owner's close() unmaps too. */
  unmap(): void {
    Mapping.#assertReal(this);
    const arrayBuffer = this.#arrayBuffer;
    if (arrayBuffer === undefined) return;
    this.#arrayBuffer = undefined;
    this.#onUnmap(this);
    native().unmap(arrayBuffer);
  }

  static #assertReal(self: object): void {
    if (!(#onUnmap in self)) throw invalidThis();
  }

  /** Same as unmap(), for `using`. */
  [Symbol.dispose](): void {
    this.unmap();
  }
}

/** The live mappings of one owner, all unmapped when the owner closes. */
export class MappingSet {
  // Made on the first map(): most buffers in a create/close loop are never mapped.
  #live: Set<Mapping> | undefined;

  /** Maps [offset, offset + length) of `fd` and tracks the result. */
  map(fd: number, fileOffset: bigint, length: bigint, offset: bigint): Mapping {
    const live = (this.#live ??= new Set());
    const mapping = new Mapping(native().map(fd, fileOffset, length), offset, (m) => live.delete(m));
    live.add(mapping);
    return mapping;
  }

  /** How many mappings are live. */
  get size(): number {
    return this.#live?.size ?? 0;
  }

  /** Unmaps every live mapping. */
  unmapAll(): void {
    if (this.#live === undefined || this.#live.size === 0) return;
    for (const mapping of [...this.#live]) mapping.unmap();
  }
}
