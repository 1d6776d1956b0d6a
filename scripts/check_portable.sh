#!/usr/bin/env bash
# Checks that a portable build of libxgrad (XGRAD_ARCH empty) uses AVX registers (ymm/zmm) only
# inside the run-time dispatched variants (functions named *_avx2 / *_avx512, see
# core/src/kernels/isa.hpp). Usage: bash scripts/check_portable.sh [build-dir]
set -euo pipefail
lib="${1:-build}/libxgrad.a"
[[ -f "$lib" ]] || { echo "no $lib" >&2; exit 2; }
report=$(objdump -d --no-show-raw-insn "$lib" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
    /%[yz]mm[0-9]/ { n[fn]++ }
    END { for (f in n) print n[f], f }' | c++filt)
bad=$(grep -Ev '_avx(2|512)(<[^()]*>)?(\.[a-z_.0-9]+)?\(' <<<"$report" || true)
echo "functions using ymm/zmm registers: $(grep -c . <<<"$report" || true)"
if [[ -n "$bad" ]]; then
    echo "AVX registers outside the dispatched variants:"
    echo "$bad"
    exit 1
fi
echo "OK: every ymm/zmm use is in an *_avx2 / *_avx512 variant"
