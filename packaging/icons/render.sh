#!/usr/bin/env bash
# Renders motionpref.svg into the PNG sizes the desktop entry's hicolor theme and the window use
# (rsvg-convert, Debian's librsvg2-bin). The PNGs are committed; rerun after editing the SVG.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for size in 16 32 48 64 128 256; do
  rsvg-convert -w "$size" -h "$size" "$here/motionpref.svg" -o "$here/motionpref-$size.png"
done
