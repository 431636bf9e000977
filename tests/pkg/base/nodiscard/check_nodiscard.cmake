# Runs the compiler on discard.cc three ways: with `(void)` it must compile; discarding a Status
# and discarding a Result<int> must each fail with a nodiscard diagnostic (Result is a
# [[nodiscard]] type, so every function returning one is covered without per-function marks).
# cmake -D CXX=<compiler> -D SOURCE_DIR=<repository> -P check_nodiscard.cmake
set(_flags -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${SOURCE_DIR})
set(_src ${SOURCE_DIR}/tests/pkg/base/nodiscard/discard.cc)
execute_process(COMMAND ${CXX} ${_flags} ${_src} RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "the control case (void casts) does not compile:\n${_err}")
endif()
foreach(_case STATUS RESULT)
  execute_process(COMMAND ${CXX} ${_flags} -DREBOOTD_DISCARD_${_case} ${_src}
                  RESULT_VARIABLE _rc ERROR_VARIABLE _err)
  if(_rc EQUAL 0)
    message(FATAL_ERROR "discarding a ${_case} compiled: Result lost its [[nodiscard]]")
  endif()
  if(NOT _err MATCHES "nodiscard")
    message(FATAL_ERROR "discarding a ${_case} failed, but not for nodiscard:\n${_err}")
  endif()
  message(STATUS "discarding a ${_case}: refused (nodiscard)")
endforeach()
