#!/usr/bin/env bash
# Installs the .deb into a clean Debian 12 root and runs the programs there, as a user of the
# package would: apt resolves the package's Depends, `motionpref-cli generate` runs from /tmp and
# must find the default model beside the installed binary, `motionpref --version` runs.
#
#   packaging/test-deb-install.sh [build/motionpref_*.deb]
#
# Needs root (debootstrap, chroot, mount) and network to deb.debian.org. The root is made once
# with debootstrap (bookworm, minbase) and kept as a tarball under ~/.cache/motionpref; the
# downloaded packages are kept there too, so a rerun takes about a minute. Too slow for every
# CI run: run it after changing install rules, packaging/ or the paths the programs look in.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
deb=${1:-$(ls -t "$source_dir"/build/motionpref_*.deb 2>/dev/null | head -n 1)}
[[ -f "$deb" ]] || { echo "no .deb given and none in build/ (packaging/deb.sh makes it)" >&2; exit 1; }
if [[ $(id -u) != 0 ]]; then
  exec sudo "$0" "$deb"
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/motionpref
tarball=$cache/debian-bookworm-minbase.tar.gz
mkdir -p "$cache/apt-archives/partial"
if [[ ! -f "$tarball" ]]; then
  command -v debootstrap >/dev/null || { echo "needs debootstrap (apt install debootstrap)" >&2; exit 1; }
  fresh=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$fresh" http://deb.debian.org/debian
  tar -C "$fresh" -czf "$tarball.part" --numeric-owner .
  mv "$tarball.part" "$tarball"
  rm -rf "$fresh"
fi

root=$(mktemp -d /tmp/motionpref-deb-test.XXXXXX)
cleanup() {
  umount "$root/var/cache/apt/archives" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xzf "$tarball"
mount -t proc proc "$root/proc"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

step() { printf '\n== %s\n' "$*"; }
step "apt install ./$(basename "$deb") (Depends resolved by apt)"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/$(basename "$deb")" | tail -n 3

step "without the default model: a clear error, exit 1"
model=$root/usr/share/motionpref/models/default
mv "$model" "$model.away"
set +e
message=$(in_root sh -c 'cd /tmp && motionpref-cli generate --prompt "a person walks" --out x.npy' 2>&1)
status=$?
set -e
mv "$model.away" "$model"
echo "$message (exit $status)"
[[ $status == 1 && $message == *"default model bundle is missing"* ]] \
  || { echo "FAIL: expected exit 1 and the missing-bundle message" >&2; exit 1; }
# The places looked in, in order: the installed copy, then the source tree compiled in.
looked=${message#*looked in }
looked=${looked%%)*}
source_model=${looked##*, }
[[ ${looked%%, *} == /usr/share/motionpref/models/default ]] \
  || { echo "FAIL: the installed model is not looked at first: $looked" >&2; exit 1; }

# A decoy at the compiled-in source tree's path: an empty directory. If the installed model were
# not found first, generate would pick this one and fail.
mkdir -p "$root$source_model"
step "motionpref-cli generate, from /tmp (a decoy at $source_model)"
in_root sh -c 'cd /tmp && motionpref-cli --quiet generate --prompt "a person walks forward" --samples 2 --out walk.bvh && motionpref-cli motion info walk_1.bvh'
step "the thread policy is set before libgomp reads it (loaded with the command library)"
shown=$(in_root env OMP_DISPLAY_ENV=verbose motionpref-cli info --device cpu 2>&1)
grep -E "OMP_WAIT_POLICY|GOMP_SPINCOUNT|motionpref-cli" <<<"$shown"
grep -q "GOMP_SPINCOUNT = '0'" <<<"$shown" || { echo "FAIL: libgomp spins while waiting" >&2; exit 1; }
step "motionpref --version"
in_root env QT_QPA_PLATFORM=offscreen motionpref --version
step "installed files"
in_root sh -c 'ls /usr/share/applications/motionpref.desktop /usr/share/mime/packages/motionpref.xml \
  /usr/share/icons/hicolor/scalable/apps/motionpref.svg /usr/share/man/man1/motionpref*.1.gz && ls /usr/share/motionpref/models/default'

echo
echo "PASS: $(basename "$deb") installs into a clean Debian 12 root and runs"
