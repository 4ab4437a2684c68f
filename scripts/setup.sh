#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system libraries Qt needs (when root and missing),
# a virtual environment in .venv at the repository root, and mdaread installed into it (editable,
# with the test tools). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt offscreen platform
  libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
  # a real X window under Xvfb (screenshots)
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-shape0 libxkbcommon-x11-0 fonts-dejavu-core
  # dciodvfy (dicom3tools) and dsrdump (dcmtk): validation of the DICOM objects mdaread writes
  dicom3tools dcmtk
  # a throwaway PACS for the tests of `mdaread pacs` (tests/orthanc_server.py)
  orthanc orthanc-dicomweb
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing system packages (install them as root): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup: ready (.venv)"
