// SPDX-License-Identifier: MIT
// The lifetime every native resource shares: one owner, an idempotent close(), [Symbol.dispose] for
// `using`, a typed error on use after close, and a finalizer that is only a safety net (an object
// dropped without close() still gives its fd or handle back once collected). And the brand check: an
// object stands for a native resource only if its constructor made it, so a Proxy of one (whose fd and
// state are whatever its traps say) or an object made from a class's prototype is refused with a typed
// error, as an argument (isInstance) and as the receiver of a method (ERR_INVALID_THIS).
import { invalidThis } from '../arg-errors.js';
import { useAfterClose } from './errors.js';

// The safety net holds each open object's release and calls it if the object is collected unclosed.
// close() unregisters the object (it is its own unregister token), so a release runs once either way.
// Leaving the registration in place is cheaper at the call, but every closed object then leaves a weak
// cell for the garbage collector to clear and a cleanup callback to run: with the two ioctls stubbed out, a
// CREATE_DUMB + GEM_CLOSE pair through the public API took 1.9-2.2 us of JS that way against 1.2-1.4 us
// unregistering, GC 48% of the samples against 15% (bench/api-js-overhead.mjs).
const safetyNet = new FinalizationRegistry<() => void>((release) => {
  try {
    release();
  } catch {
    // Collected objects have no caller left to tell; the explicit close() path reports errors.
  }
});

// A class by its prototype: Resource's subclasses have protected and private constructors.
interface ResourceClass<T extends Resource> {
  readonly prototype: T;
}

// The class that constructed a Resource, or undefined for anything else. Private fields are not reached
// through a Proxy and are absent from an object made from a prototype, so neither has one; reading it
// runs no user code. Set in Resource's static block, the only place that can read its private field.
let constructedBy: (value: object) => ResourceClass<Resource> | undefined;

/**
 * Whether `value` is a `type` (or a subclass of it) that its constructor made: not a Proxy of one, not an
 * object made from its prototype, and so with fds and state the package can trust. Runs no user code.
 */
export function isInstance<T extends Resource>(value: unknown, type: ResourceClass<T>): value is T {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const made = constructedBy(value);
  return made !== undefined && (made === type || Object.prototype.isPrototypeOf.call(type.prototype, made.prototype));
}

/** Base of Device, Buffer, DmaBuf, SyncFile, Syncobj: idempotent close and use-after-close checks. */
export abstract class Resource implements Disposable {
  #closed = false;
  readonly #class: ResourceClass<Resource>;
  readonly #registered: boolean;
  #closeListeners: Set<() => void> | undefined;

  static {
    constructedBy = (value) => (#class in value ? value.#class : undefined);
  }

  /**
   * @param safetyRelease - frees the native resource if this object is collected unclosed; it must not
   *   refer to `this`.
   */
  protected constructor(safetyRelease?: () => void) {
    this.#class = new.target;
    this.#registered = safetyRelease !== undefined;
    if (safetyRelease !== undefined) safetyNet.register(this, safetyRelease, this);
  }

  /** Whether close() has run. */
  get closed(): boolean {
    Resource.#assertReal(this);
    return this.#closed;
  }

  /** Throws ERR_INVALID_THIS for a receiver the constructor did not make, ERR_USE_AFTER_CLOSE once closed. */
  protected assertOpen(): void {
    Resource.#assertReal(this);
    if (this.#closed) throw useAfterClose(this.describe());
  }

  /** Releases the native resource; later calls do nothing. */
  close(): void {
    Resource.#assertReal(this);
    if (this.#closed) return;
    this.#closed = true;
    if (this.#registered) safetyNet.unregister(this);
    try {
      this.release();
    } finally {
      // Also when releasing failed: this object is closed either way, and what others keep for it must go.
      const listeners = this.#closeListeners;
      this.#closeListeners = undefined;
      if (listeners !== undefined) for (const listener of listeners) listener();
    }
  }

  /**
   * Calls `listener` once, when close() runs (not when this object is collected unclosed), and returns
   * what stops that. For what the package keeps per resource: a VA window's copy of a source's fd.
   * `listener` must not throw.
   * @internal
   */
  whenClosed(listener: () => void): () => void {
    Resource.#assertReal(this);
    const listeners = (this.#closeListeners ??= new Set());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  // A method called on a Proxy of a resource (or on an object made from the prototype) gets that object as
  // `this`: refused before any of its traps or fields is read.
  static #assertReal(self: object): void {
    if (!(#class in self)) throw invalidThis();
  }

  // Built only when an error needs it: a name made for every object cost a tenth of a create/close pair's
  // JavaScript (bench/api-js-overhead.mjs).
  /** How errors name this object ("DmaBuf fd 12"). */
  protected abstract describe(): string;

  /** Frees what this object owns; called once, by close(). */
  protected abstract release(): void;

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
