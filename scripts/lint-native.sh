#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lints native/: `format` checks it against .clang-format (clang-format --dry-run), `tidy` runs clang-tidy's
# checks from .clang-tidy over every source with the flags binding.gyp compiles it with. Without the tool
# (Debian: apt-get install clang-format clang-tidy) it says so and fails in CI, but only warns elsewhere, so a
# machine without clang can still lint the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/lint-native.sh format|tidy}
tool=clang-$mode
if ! command -v "$tool" >/dev/null; then
  echo "lint-native: $tool is not installed; native/ not checked" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 0
fi
shopt -s nullglob
case $mode in
  format)
    "$tool" --dry-run -Werror native/*.cc native/*.h
    ;;
  tidy)
    # The headers node-gyp compiles against: the ones installed beside node, else node-gyp's download.
    node_include=$(dirname "$(dirname "$(node -p process.execPath)")")/include/node
    [ -f "$node_include/node_api.h" ] || node_include=$(ls -d "$HOME"/.cache/node-gyp/*/include/node 2>/dev/null | tail -1)
    flags=(-std=c++17 -Wall -Wextra "-I$node_include" "-I$(node -p "require('node-addon-api').include_dir")"
      -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS '-DDRM_GPUVM_SOURCE_DIGEST="lint"')
    # One file per process, as many processes as cores: tidy is CPU-bound and the files independent.
    printf '%s\0' native/*.cc | xargs -0 -I{} -P"$(nproc)" "$tool" -quiet {} -- "${flags[@]}" 2>/dev/null || {
      echo "lint-native: clang-tidy found the problems above" >&2
      exit 1
    }
    ;;
  *)
    echo "usage: scripts/lint-native.sh format|tidy" >&2
    exit 2
    ;;
esac
