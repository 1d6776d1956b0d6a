#!/usr/bin/env bash
# Installs xgrad's build dependencies from Debian's archive, skipping what is already there.
# Run as root (or with sudo) on Debian 12. `--test` adds what the sanitizer and fuzzing job needs
# (clang, its sanitizer and libFuzzer runtimes, llvm-symbolizer for readable reports).
set -euo pipefail
packages=(build-essential cmake ninja-build libxtensor-dev xtl-dev libxsimd-dev libopenblas-dev
          libdnnl-dev catch2 nlohmann-json3-dev zlib1g-dev dataset-fashion-mnist)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang libclang-rt-14-dev llvm-14)
fi
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
