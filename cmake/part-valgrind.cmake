# `make valgrind`: ctest -T memcheck needs CTest's DartConfiguration.tcl and
# the memory checker, which only include(CTest) writes. Only in the
# Valgrind build (-DOM_VALGRIND=ON), so other builds get no CTest targets.
if(OM_VALGRIND AND OM_BUILD_TESTS)
  find_program(MEMORYCHECK_COMMAND valgrind REQUIRED)
  set(MEMORYCHECK_COMMAND_OPTIONS
      "--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
      CACHE STRING "Valgrind options for ctest -T memcheck")
  # libunwind's probe of memory by write(2) (tests/valgrind.supp)
  set(MEMORYCHECK_SUPPRESSIONS_FILE ${PROJECT_SOURCE_DIR}/tests/valgrind.supp CACHE FILEPATH
      "Valgrind suppressions for ctest -T memcheck")
  include(CTest)
endif()
