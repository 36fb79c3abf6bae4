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
