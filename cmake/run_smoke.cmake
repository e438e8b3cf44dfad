# Runs one program for a smoke test: it must exit with KIT_EXIT_CODE and its
# combined output must match KIT_EXPECT. Invoked by kit_smoke() in Kit.cmake as
#   cmake -DKIT_EXPECT=<regex> -DKIT_EXIT_CODE=<n> -P run_smoke.cmake -- <command> <args>...
set(cmd "")
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_dashes)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "run_smoke.cmake: no command after --")
endif()
execute_process(COMMAND ${cmd}
                RESULT_VARIABLE rc
                OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
message("${out}")
# A program that says it cannot show its point here is reported as skipped
# (the test's SKIP_REGULAR_EXPRESSION); the proof checker learns why.
if(DEFINED KIT_SKIP_PHRASE AND NOT "${KIT_SKIP_PHRASE}" STREQUAL "" AND out MATCHES "${KIT_SKIP_PHRASE}[^\n]*")
  if(DEFINED KIT_SKIP_LOG AND NOT "${KIT_SKIP_LOG}" STREQUAL "")
    string(REPLACE "\t" " " reason "${CMAKE_MATCH_0}")
    file(APPEND "${KIT_SKIP_LOG}" "ctest\t${KIT_TEST_NAME}\t${reason}\n")
  endif()
endif()
if(NOT "${rc}" STREQUAL "${KIT_EXIT_CODE}")
  message(FATAL_ERROR "expected exit status ${KIT_EXIT_CODE}, got '${rc}'")
endif()
if(NOT "${KIT_EXPECT}" STREQUAL "" AND NOT out MATCHES "${KIT_EXPECT}")
  message(FATAL_ERROR "output does not match: ${KIT_EXPECT}")
endif()
