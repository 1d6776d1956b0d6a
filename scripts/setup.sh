#!/usr/bin/env bash
# Installs xgrad's build dependencies from Debian's archive, skipping what is already there.
# Run as root (or with sudo) on Debian 12.
set -euo pipefail
packages=(build-essential cmake ninja-build libxtensor-dev xtl-dev libxsimd-dev libopenblas-dev
          catch2 nlohmann-json3-dev zlib1g-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all build dependencies present"
fi
