#!/usr/bin/env bash
# The threading tests ([threads] in tests/test_threads.cpp) under ThreadSanitizer, in a build
# folder of their own (build-tsan): configures with -DXGRAD_TSAN=ON, builds xgrad_tests and runs
# the CTest entries labelled `tsan`. Any report fails the run (halt_on_error=1).
#
#   bash scripts/tsan.sh            # from the repository root; extra arguments go to ctest
#
# Only the [threads] tests are registered in a TSan build (tests/CMakeLists.txt), so this runs
# exactly them. scripts/tsan.supp suppresses reports whose other side is inside OpenBLAS's own
# thread pool (uninstrumented, its synchronisation invisible to TSan); see the comment there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-tsan"
jobs="${XGRAD_JOBS:-2}"

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

CXX="${CXX:-g++}" cmake -S "${root}" -B "${build}" "${generator[@]}" \
    -DXGRAD_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCH=OFF -DXGRAD_BUILD_TESTS=ON
cmake --build "${build}" -j "${jobs}" --target xgrad_tests

# second_deadlock_stack: both stacks of a lock-order inversion. (If the tests stop at start-up
# with "FATAL: ThreadSanitizer: unexpected memory mapping", the kernel's ASLR entropy is too high
# for g++ 12's TSan: rerun under `setarch -R`.)
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=${root}/scripts/tsan.supp${TSAN_OPTIONS:+ ${TSAN_OPTIONS}}"
cd "${build}"
ctest -L tsan --output-on-failure "$@"
