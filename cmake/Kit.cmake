# Kit.cmake — the one place that knows the kit's naming rules.
#
# In a chapter folder NN_topic, CMakeLists.txt needs only:
#
#   kit_program(pipe_parent_child EXPECT "child read 13 bytes")
#   kit_program(pipe_capacity EXPECT "capacity: [0-9]+ bytes" ARGS 4096)
#   kit_tests(pipe_basics_test.cpp pipe_limits_test.cpp)
#
# which gives executables named after their files, the smoke tests
# chapterNN.run.<program>, the GoogleTest cases chapterNN.<Suite>.<Case>, the
# label chapterNN on all of them, and the leak-guard and doctor fixtures.
#
# Regular expressions are CMake's (https://cmake.org/cmake/help/latest/command/string.html#regex-specification):
# use [0-9] rather than \d, and avoid ';' (CMake's list separator).

set(KIT_SMOKE_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/run_smoke.cmake")
# Cases and smoke tests that skip on this machine append a line here; the
# proof checker reads it to report citations that are not proved here.
set(KIT_SKIP_LOG "${CMAKE_BINARY_DIR}/kit-skipped.log")
# What a program prints when the machine does not let it show its point; its
# smoke test then reports "skipped" instead of passing.
set(KIT_SKIP_PHRASE "cannot show it here")
# One fixture, required by every test: its setups are the leak-guard snapshot
# and the doctor, its cleanup is the leak-guard check (common/CMakeLists.txt).
set(KIT_FIXTURES "kit")

# The chapter of the current folder: "05_shm" → "chapter05".
function(kit_chapter_of dir out_var)
  get_filename_component(name "${dir}" NAME)
  string(REGEX MATCH "^[0-9][0-9]" nn "${name}")
  if(NOT nn)
    message(FATAL_ERROR "kit: ${dir} is not a chapter folder (NN_topic)")
  endif()
  set(${out_var} "chapter${nn}" PARENT_SCOPE)
endfunction()

# Compile settings every kit target shares: common/ on the include path (the
# helpers lesson programs may use; test machinery lives in testing/, which only
# kit_tests adds), threads, and where to find the chapter's programs and
# sources at run time.
function(kit_target_defaults target)
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/common")
  set_property(GLOBAL APPEND PROPERTY KIT_TARGETS ${target})
  target_link_libraries(${target} PRIVATE Threads::Threads)
  target_compile_definitions(${target} PRIVATE
    KIT_BIN_DIR="${CMAKE_CURRENT_BINARY_DIR}"
    KIT_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
endfunction()

# kit_smoke(<test-suffix> COMMAND <cmd> [args...] [EXPECT <regex>]
#           [EXIT_CODE <n>] [TIMEOUT <s>])
# A test chapterNN.run.<suffix> that runs the command, and passes only if it
# exits with EXIT_CODE (default 0) and its output (stdout+stderr) matches EXPECT.
function(kit_smoke suffix)
  cmake_parse_arguments(PARSE_ARGV 1 S "" "EXPECT;EXIT_CODE;TIMEOUT" "COMMAND")
  kit_chapter_of("${CMAKE_CURRENT_SOURCE_DIR}" chapter)
  if(NOT S_COMMAND)
    message(FATAL_ERROR "kit_smoke(${suffix}): COMMAND is required")
  endif()
  if(NOT DEFINED S_EXIT_CODE)
    set(S_EXIT_CODE 0)
  endif()
  if(NOT S_TIMEOUT)
    set(S_TIMEOUT 20)
  endif()
  set(name "${chapter}.run.${suffix}")
  add_test(NAME "${name}"
           COMMAND ${CMAKE_COMMAND}
             "-DKIT_EXPECT=${S_EXPECT}" "-DKIT_EXIT_CODE=${S_EXIT_CODE}"
             "-DKIT_TEST_NAME=${name}" "-DKIT_SKIP_LOG=${KIT_SKIP_LOG}"
             "-DKIT_SKIP_PHRASE=${KIT_SKIP_PHRASE}"
             -P "${KIT_SMOKE_SCRIPT}" -- ${S_COMMAND}
           WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  set_tests_properties("${name}" PROPERTIES
    LABELS "${chapter}" TIMEOUT "${S_TIMEOUT}" FIXTURES_REQUIRED "${KIT_FIXTURES}"
    SKIP_REGULAR_EXPRESSION "${KIT_SKIP_PHRASE}")
endfunction()

# kit_program(<name> [EXPECT <regex>] [ARGS <args...>] [EXIT_CODE <n>]
#             [TIMEOUT <s>] [SOURCES <more.cpp...>] [LIBS <libs...>] [NO_SMOKE])
# Builds <name>.cpp into the executable <name> and adds its smoke test
# chapterNN.run.<name> (unless NO_SMOKE: then add one with kit_smoke), and the
# test chapterNN.usage.<name>: given an argument it does not take, the program
# names it and prints its usage line, and exits 2.
function(kit_program name)
  cmake_parse_arguments(PARSE_ARGV 1 P "NO_SMOKE" "EXPECT;EXIT_CODE;TIMEOUT" "ARGS;SOURCES;LIBS")
  add_executable(${name} "${name}.cpp" ${P_SOURCES})
  kit_target_defaults(${name})
  if(P_LIBS)
    target_link_libraries(${name} PRIVATE ${P_LIBS})
  endif()
  if(NOT P_NO_SMOKE)
    if(NOT DEFINED P_EXPECT)
      message(FATAL_ERROR "kit_program(${name}): EXPECT <regex> is required (what must it print?)")
    endif()
    set(extra "")
    if(DEFINED P_EXIT_CODE)
      list(APPEND extra EXIT_CODE "${P_EXIT_CODE}")
    endif()
    if(P_TIMEOUT)
      list(APPEND extra TIMEOUT "${P_TIMEOUT}")
    endif()
    kit_smoke(${name} COMMAND "$<TARGET_FILE:${name}>" ${P_ARGS} EXPECT "${P_EXPECT}" ${extra})
  endif()
  kit_chapter_of("${CMAKE_CURRENT_SOURCE_DIR}" chapter)
  set(usage_test "${chapter}.usage.${name}")
  add_test(NAME "${usage_test}"
           COMMAND ${CMAKE_COMMAND}
             "-DKIT_EXPECT=${name}: unexpected argument '--bogus-argument'\nusage: ${name}"
             "-DKIT_EXIT_CODE=2" -P "${KIT_SMOKE_SCRIPT}" -- "$<TARGET_FILE:${name}>" --bogus-argument
           WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  set_tests_properties("${usage_test}" PROPERTIES
    LABELS "${chapter}" TIMEOUT 10 FIXTURES_REQUIRED "${KIT_FIXTURES}")
endfunction()

# kit_tests(<sources...> [LIBS <libs...>] [TIMEOUT <s>])
# One GoogleTest executable <chapter-folder>_test per chapter; every case is
# the ctest test chapterNN.<Suite>.<Case>, labelled chapterNN, bounded by
# TIMEOUT seconds (default 30; a case should take well under two).
function(kit_tests)
  cmake_parse_arguments(PARSE_ARGV 0 T "" "TIMEOUT" "LIBS")
  kit_chapter_of("${CMAKE_CURRENT_SOURCE_DIR}" chapter)
  get_filename_component(folder "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 30)
  endif()
  set(target "${folder}_test")
  add_executable(${target} ${T_UNPARSED_ARGUMENTS})
  kit_target_defaults(${target})
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/testing")
  target_link_libraries(${target} PRIVATE kit_gtest_main ${T_LIBS})
  gtest_discover_tests(${target}
    TEST_PREFIX "${chapter}."
    DISCOVERY_TIMEOUT 30
    PROPERTIES LABELS "${chapter}" TIMEOUT "${T_TIMEOUT}" FIXTURES_REQUIRED "${KIT_FIXTURES}"
               ENVIRONMENT "KIT_SKIP_LOG=${KIT_SKIP_LOG}")
endfunction()

# Called by the top-level CMakeLists for every chapter: the lesson checks
# (CONVENTIONS §8, CONTRIBUTING.md):
#   chapterNN.lesson.CodeBlocksMatchSources  every cpp excerpt is in a program
#                                            or chapter header, elisions honest
#   chapterNN.lesson.OutputBlocksMatchRuns   every "$ ./program" block is run
#                                            here and its output compared
function(kit_add_lesson_check dir)
  kit_chapter_of("${dir}" chapter)
  set(name "${chapter}.lesson.CodeBlocksMatchSources")
  add_test(NAME "${name}"
           COMMAND lesson_check code "${PROJECT_SOURCE_DIR}/${dir}")
  set_tests_properties("${name}" PROPERTIES
    LABELS "${chapter}" TIMEOUT 30 FIXTURES_REQUIRED "${KIT_FIXTURES}")
  set(name "${chapter}.lesson.OutputBlocksMatchRuns")
  if(CMAKE_CXX_FLAGS MATCHES "sanitize=thread")
    # ThreadSanitizer adds its own reports and system calls to what programs
    # print: the lesson shows a normal build's output.
    add_test(NAME "${name}" COMMAND "${CMAKE_COMMAND}" -E echo
             "${KIT_SKIP_PHRASE}: under ThreadSanitizer the programs do not print what a normal build prints")
  else()
    add_test(NAME "${name}"
             COMMAND lesson_check output "${PROJECT_SOURCE_DIR}/${dir}" "${PROJECT_BINARY_DIR}/${dir}")
  endif()
  set_tests_properties("${name}" PROPERTIES
    LABELS "${chapter}" TIMEOUT 120 FIXTURES_REQUIRED "${KIT_FIXTURES}"
    SKIP_REGULAR_EXPRESSION "${KIT_SKIP_PHRASE}")
endfunction()
