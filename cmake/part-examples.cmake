# part-examples.cmake - build examples/ with the library and run each as a
# ctest (label unit). examples/CMakeLists.txt also builds standalone
# against an installed objmem (tools/check-install.sh).
option(OM_BUILD_EXAMPLES "Build the examples in examples/" ON)
if(OM_BUILD_EXAMPLES)
  if(OM_BUILD_TESTS)
    enable_testing()
  endif()
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples ${PROJECT_BINARY_DIR}/examples)
endif()

# The tour and `objmem stats` run whole and exit 0 (their sections check
# their own numbers and fail the run when a claim does not hold).
if(OM_BUILD_TOOLS AND OM_BUILD_TESTS)
  add_test(NAME tool_tour COMMAND objmem tour)
  add_test(NAME tool_stats COMMAND objmem stats)
  add_test(NAME tool_stats_json COMMAND objmem stats --json)
  set_tests_properties(tool_tour tool_stats tool_stats_json PROPERTIES LABELS unit TIMEOUT 60)
  # The tour speaks English: "1 object", never "1 objects" or "object(s)".
  set_tests_properties(tool_tour PROPERTIES FAIL_REGULAR_EXPRESSION
    "[^0-9.,]1 (objects|blocks|pools|arenas|collections|groups|times|references|strings|entries|sites|frames|bytes)[^a-z]|[a-z]\\(s\\)")
endif()
