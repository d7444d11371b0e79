#!/usr/bin/env bash
# Builds the Debian package: build/motionpref_<version>_<arch>.deb, and lists it.
#   packaging/deb.sh [BUILD_DIR]      (default build/, configured by packaging/dev or by hand)
# Needs dpkg-dev (dpkg-shlibdeps computes Depends) and help2man (the man pages):
#   apt install dpkg-dev help2man
# Then: apt install ./build/motionpref_*.deb; packaging/test-deb-install.sh tests it in a clean
# Debian 12 root.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$source_dir/build}
for tool in dpkg-shlibdeps help2man; do
  command -v "$tool" >/dev/null || { echo "deb.sh: needs $tool (apt install dpkg-dev help2man)" >&2; exit 1; }
done
cmake --build "$build" --target package
deb=$(ls -t "$build"/motionpref_*.deb | head -n 1)
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
echo "$deb: $(dpkg-deb -c "$deb" | wc -l) entries, $(du -h "$deb" | cut -f1)"
