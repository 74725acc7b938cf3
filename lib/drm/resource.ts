// SPDX-License-Identifier: MIT
// The lifetime every native resource shares: one owner, an idempotent close(), [Symbol.dispose] for
// `using`, a typed error on use after close, and a finalizer that is only a safety net (an object
// dropped without close() still gives its fd or handle back once collected).
import { useAfterClose } from './errors.js';

// What the registry holds for one object: its release, cleared by close() so that the finalizer then
// does nothing. close() clears the cell instead of calling unregister(): registering with an unregister
// token and unregistering cost about 1.6x a plain registration per object (measured on Node 20), and a
// create/close loop pays that on every buffer (bench/native-ioctl.mjs, public API column).
interface SafetyCell {
  release: (() => void) | undefined;
}

const safetyNet = new FinalizationRegistry<SafetyCell>((cell) => {
  const release = cell.release;
  if (release === undefined) return;
  cell.release = undefined;
  try {
    release();
  } catch {
    // Collected objects have no caller left to tell; the explicit close() path reports errors.
  }
});

/** Base of Device, Buffer, DmaBuf, SyncFile, Syncobj: idempotent close and use-after-close checks. */
export abstract class Resource implements Disposable {
  #closed = false;
  readonly #what: string;
  readonly #safety: SafetyCell | undefined;

  /**
   * @param what - how errors name this object ("DmaBuf fd 12").
   * @param safetyRelease - frees the native resource if this object is collected unclosed; it must not
   *   refer to `this`.
   */
  protected constructor(what: string, safetyRelease?: () => void) {
    this.#what = what;
    if (safetyRelease !== undefined) {
      this.#safety = { release: safetyRelease };
      safetyNet.register(this, this.#safety);
    }
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws ERR_USE_AFTER_CLOSE once closed. */
  protected assertOpen(): void {
    if (this.#closed) throw useAfterClose(this.#what);
  }

  /** Releases the native resource; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#safety !== undefined) this.#safety.release = undefined;
    this.release();
  }

  /** Frees what this object owns; called once, by close(). */
  protected abstract release(): void;

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
