# kit.format.SourcesAreFormatted: every C++ source of the kit is laid out as
# .clang-format says. Formatters of other major versions lay code out slightly
# differently, so the check runs only with the version the layout was made with.
#   cmake -DCLANG_FORMAT=<path or NOTFOUND> -DROOT=<source dir> -P format_check.cmake
set(wanted_major 14)
if(NOT CLANG_FORMAT)
  message("cannot show it here: clang-format is not installed (Debian: apt-get install clang-format-${wanted_major})")
  return()
endif()
execute_process(COMMAND "${CLANG_FORMAT}" --version OUTPUT_VARIABLE version)
if(NOT version MATCHES "version ${wanted_major}\\.")
  message("cannot show it here: ${version} is not clang-format ${wanted_major}, the version the layout follows")
  return()
endif()
file(GLOB_RECURSE sources RELATIVE "${ROOT}"
     "${ROOT}/common/*.cpp" "${ROOT}/common/*.hpp" "${ROOT}/testing/*.cpp" "${ROOT}/testing/*.hpp"
     "${ROOT}/tools/*.cpp" "${ROOT}/tools/*.hpp" "${ROOT}/[0-9][0-9]_*/*.cpp" "${ROOT}/[0-9][0-9]_*/*.hpp")
set(bad "")
foreach(f IN LISTS sources)
  execute_process(COMMAND "${CLANG_FORMAT}" --dry-run -Werror "${f}"
                  WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    list(APPEND bad "${f}")
  endif()
endforeach()
list(LENGTH sources n)
if(bad)
  list(JOIN bad "\n  " listing)
  message(FATAL_ERROR "not formatted (run clang-format -i on them):\n  ${listing}")
endif()
message("format check: ${n} file(s), all formatted")
