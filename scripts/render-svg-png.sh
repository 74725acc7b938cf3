#!/bin/sh
# SPDX-License-Identifier: MIT
# Renders an SVG (e.g. from `drm-gpuvm map --svg`) to PNG with headless Chromium, at the SVG's own size,
# to look at it the way a browser shows it. Debian: apt-get install -y chromium.
# usage: scripts/render-svg-png.sh IN.svg OUT.png
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 IN.svg OUT.png" >&2
  exit 2
fi
in=$1
out=$2
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "$0: no chromium found (Debian: apt-get install -y chromium)" >&2
  exit 1
fi
# The picture's size is on the root element: width="W" height="H".
size=$(head -c 400 "$in" | sed -n 's/.*<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p')
if [ -z "$size" ]; then
  echo "$0: $in: no width/height on the <svg> element" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: Chromium refuses to run as root otherwise; the input is a local file we just wrote.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$size" --screenshot="$(realpath -m "$out")" "file://$(realpath "$in")" >/dev/null 2>&1
test -s "$out" || { echo "$0: chromium wrote no $out" >&2; exit 1; }
echo "$out ($size)"
