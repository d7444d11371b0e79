#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running MotionPref Studio needs.
# Idempotent and quick when everything is present (one dpkg query, no apt call).
# Usage: packaging/install-deps.sh [--with-postgres]   (as root, or as a user with sudo)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # Qt 6: Widgets, Sql (SQLite), Test, 3D, Charts, OpenGL
  qt6-base-dev qt6-base-dev-tools qt6-3d-dev qt6-charts-dev libqt6opengl6-dev
  libqt6sql6-sqlite libqt6svg6 qt6-qpa-plugins libxkbcommon-dev libgl-dev
  libgl1-mesa-dri libglx-mesa0
  # ML and formats
  libtorch-dev libopenblas0-pthread libassimp-dev nlohmann-json3-dev
  libsentencepiece-dev sentencepiece
  # c10d's Gloo backend headers (data-parallel training; the gloo LibTorch was built against)
  libgloo-dev
  # headless GUI tests and screenshots
  xvfb xauth imagemagick fonts-dejavu-core
)
if [[ "${1:-}" == "--with-postgres" ]]; then
  packages+=(postgresql libqt6sql6-psql)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
