# Runs one libFuzzer target for CTest (see CMakeLists.txt):
#   cmake -DFUZZER=<binary> -DMODE=replay|run -DCORPUS=<dir> -DREGRESSION=<dir>
#         -DSCRATCH=<dir> -DARTIFACTS=<dir> "-DLIMITS=<libFuzzer flags>" [-DRUNS=<n>]
#         -P run_fuzzer.cmake
# replay: every file of CORPUS and REGRESSION is passed by name, so libFuzzer executes each one
#         exactly once and fuzzes nothing (checked: one "Executed" line per file).
# run:    CORPUS is copied to SCRATCH, which libFuzzer fuzzes for RUNS executions with -seed=1.
# Crash inputs go to ARTIFACTS.
cmake_minimum_required(VERSION 3.25)
foreach(var FUZZER MODE CORPUS REGRESSION SCRATCH ARTIFACTS LIMITS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
separate_arguments(limits UNIX_COMMAND "${LIMITS}")
file(MAKE_DIRECTORY "${ARTIFACTS}")

# The inputs in a folder, sorted (dot files and README files are not inputs).
function(inputs_of folder out)
  file(GLOB all LIST_DIRECTORIES false "${folder}/*")
  set(kept)
  foreach(f IN LISTS all)
    get_filename_component(n "${f}" NAME)
    if(NOT n MATCHES "^\\." AND NOT n MATCHES "^README")
      list(APPEND kept "${f}")
    endif()
  endforeach()
  list(SORT kept)
  set(${out} "${kept}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "replay")
  inputs_of("${CORPUS}" corpus)
  inputs_of("${REGRESSION}" regression)
  set(files ${corpus} ${regression})
  list(LENGTH corpus n_corpus)
  list(LENGTH regression n_regression)
  list(LENGTH files n)
  if(n_corpus EQUAL 0)
    message(FATAL_ERROR "no seed inputs in ${CORPUS}")
  endif()
  execute_process(COMMAND "${FUZZER}" ${limits} "-artifact_prefix=${ARTIFACTS}/" ${files}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX MATCHALL "\nExecuted [^\n]*" executed "\n${out}")
  list(LENGTH executed n_executed)
  if(NOT rc EQUAL 0)
    message("${out}")
    # libFuzzer stops at the first failure: run each input alone to name every failing one.
    set(failing)
    foreach(f IN LISTS files)
      execute_process(COMMAND "${FUZZER}" ${limits} "-artifact_prefix=${ARTIFACTS}/" "${f}"
                      RESULT_VARIABLE rc_one OUTPUT_VARIABLE out_one ERROR_VARIABLE out_one)
      if(NOT rc_one EQUAL 0)
        string(REGEX MATCH "(FUZZ CHECK FAILED|ERROR: [A-Za-z]+Sanitizer|SUMMARY|[^\n]*runtime error|ERROR: libFuzzer)[^\n]*" why "${out_one}")
        list(APPEND failing "  ${f}\n      ${why}")
      endif()
    endforeach()
    list(LENGTH failing n_failing)
    list(JOIN failing "\n" failing)
    message(FATAL_ERROR "${FUZZER} failed on ${n_failing} of the ${n} inputs:\n${failing}")
  endif()
  if(NOT n_executed EQUAL n)
    message("${out}")
    message(FATAL_ERROR "${n} inputs were given but ${n_executed} were executed")
  endif()
  message("replayed ${n} inputs (${n_corpus} seeds, ${n_regression} regression), each once")
elseif(MODE STREQUAL "run")
  if(NOT DEFINED RUNS)
    message(FATAL_ERROR "run_fuzzer.cmake: RUNS is not set")
  endif()
  file(REMOVE_RECURSE "${SCRATCH}")
  file(MAKE_DIRECTORY "${SCRATCH}")
  inputs_of("${CORPUS}" corpus)
  file(COPY ${corpus} DESTINATION "${SCRATCH}")
  execute_process(COMMAND "${FUZZER}" ${limits} -runs=${RUNS} -seed=1 -print_final_stats=1
                          "-artifact_prefix=${ARTIFACTS}/" "${SCRATCH}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "${FUZZER} found a failing input (exit ${rc}); it was saved in "
                        "${ARTIFACTS} (see fuzz/README.md: reproduce, minimise, add to "
                        "regression/)")
  endif()
  string(REGEX MATCHALL "(#[0-9]+[^\n]*DONE[^\n]*|stat::[^\n]*)" summary "${out}")
  list(JOIN summary "\n" summary)
  message("${summary}")
else()
  message(FATAL_ERROR "run_fuzzer.cmake: MODE must be replay or run, got '${MODE}'")
endif()
