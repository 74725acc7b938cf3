// SPDX-License-Identifier: MIT
// node-gyp-build ships no types.
declare module 'node-gyp-build' {
  /** Loads the addon built in `root`/build/Release, or the matching prebuild under `root`/prebuilds. */
  function load(root: string): unknown;
  namespace load {
    /** The path load() would require, or throws when there is none. */
    function resolve(root: string): string;
  }
  export default load;
}
