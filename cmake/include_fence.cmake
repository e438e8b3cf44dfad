# kit.layout.ProgramsCannotIncludeTestHelpers: compiled with a lesson
# program's include path (common/ alone), an include of a test helper must
# fail because the header is not found, while a kit/ header compiles.
#   cmake -DCXX=<compiler> -DCOMMON=<dir> -P include_fence.cmake
set(src "${CMAKE_CURRENT_BINARY_DIR}/include_fence_probe.cpp")
file(WRITE "${src}" "#include \"kit/check.hpp\"\nint main() { return 0; }\n")
execute_process(COMMAND "${CXX}" -std=c++20 -fsyntax-only "-I${COMMON}" "${src}"
                RESULT_VARIABLE ok_rc ERROR_VARIABLE ok_err)
if(NOT ok_rc EQUAL 0)
  message(FATAL_ERROR "a program including kit/check.hpp does not compile:\n${ok_err}")
endif()
foreach(header kit_test/program.hpp kit_test/leak.hpp)
  file(WRITE "${src}" "#include \"${header}\"\nint main() { return 0; }\n")
  execute_process(COMMAND "${CXX}" -std=c++20 -fsyntax-only "-I${COMMON}" "${src}"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "a program could include the test helper ${header}")
  endif()
  if(NOT err MATCHES "${header}: No such file")
    message(FATAL_ERROR "including ${header} failed, but not because it is out of reach:\n${err}")
  endif()
  message("${header}: out of a program's reach, as it should be")
endforeach()
file(REMOVE "${src}")
