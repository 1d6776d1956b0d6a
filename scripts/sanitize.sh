#!/usr/bin/env bash
# The sanitizer job (run by the README's test command after the normal build): the library, the
# tests, the examples and the libFuzzer targets built with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (leak detection on, any undefined behaviour fatal) in build-asan/,
# then every CTest entry run there: the unit tests, the install-and-consume test, the examples'
# small configurations, and each fuzz target's corpus replay and bounded campaign (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXGRAD_SANITIZE=ON -DXGRAD_FUZZ=ON -DXGRAD_BUILD_BENCH=OFF
cmake --build build-asan -j2
# allocator_may_return_null: a request past what the machine has must reach our code as a null
# pointer (xgrad then throws OutOfMemoryError), as it does without the sanitizer.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan && ctest --output-on-failure -j2
