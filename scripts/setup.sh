#!/usr/bin/env bash
# Installs kmodel's build and test dependencies from Debian 12 packages. Idempotent: when everything
# is present it only checks (no apt-get at all), so it is fast on a prepared machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache
  libcli11-dev libhdf5-dev libprotobuf-dev protobuf-compiler rapidjson-dev libspdlog-dev catch2
  libleveldb-dev libsnappy-dev libzip-dev libeigen3-dev zlib1g-dev
  python3-h5py python3-numpy hdf5-tools unzip zip time
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js + npm run the TensorFlow.js differential tests (tests/tfjs). Machines of this kind ship
# Node 20; where none is installed, Debian's packages are used.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JavaScript test dependencies, pinned by the committed package-lock.json.
cd "$(dirname "$0")/../tests/tfjs"
if [ ! -d node_modules/@tensorflow/tfjs ]; then
  echo "setup: npm ci in tests/tfjs"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
