# part-trace-tests.cmake - the tracer on programs built as people ship
# them (issue 16): tests/trace/leak_prog.c built -O2 without frame pointers,
# without debug information (-g0) against the static and the shared
# library, and with -g; each must name the leaking function and its caller.
if(OM_BUILD_TESTS)
  set(_om_lp ${PROJECT_SOURCE_DIR}/tests/trace/leak_prog.c)
  foreach(v static_nodebug shared_nodebug static_debug)
    add_executable(leak_prog_${v} ${_om_lp})
    if(v MATCHES "^shared")
      target_link_libraries(leak_prog_${v} PRIVATE objmem_shared)
    else()
      target_link_libraries(leak_prog_${v} PRIVATE objmem_static)
    endif()
    # options after the directory's: these win (-g0 over -g, -O2, no frame pointers)
    if(v MATCHES "nodebug$")
      target_compile_options(leak_prog_${v} PRIVATE -O2 -fomit-frame-pointer -g0)
      set(_om_args)
    else()
      target_compile_options(leak_prog_${v} PRIVATE -O2 -fomit-frame-pointer -g)
      set(_om_args -g)
    endif()
    set_target_properties(leak_prog_${v} PROPERTIES ENABLE_EXPORTS OFF)
    foreach(mode auto tables)
      add_test(NAME trace_build_${v}_${mode} COMMAND leak_prog_${v} ${mode} ${_om_args})
      set_tests_properties(trace_build_${v}_${mode} PROPERTIES LABELS unit TIMEOUT 60)
    endforeach()
  endforeach()
endif()

# docs/leak-hunting.md is produced by its commands (tests/docs/leak_guide.py
# builds examples/leak_hunt.c -O3 without -g against libobjmem.a and runs
# them): the test fails when the guide is stale (`make leak-guide`). Not
# under the sanitizers (the example is built plainly) nor with clang (the
# offsets in the guide are gcc's).
find_program(OM_PYTHON3 python3)
if(OM_BUILD_TESTS AND OM_BUILD_TOOLS AND OM_PYTHON3 AND NOT OM_SANITIZE
   AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
  add_test(NAME doc_leak_hunting
           COMMAND ${OM_PYTHON3} ${PROJECT_SOURCE_DIR}/tests/docs/leak_guide.py ${CMAKE_BINARY_DIR} --check)
  set_tests_properties(doc_leak_hunting PROPERTIES LABELS "unit;doc" TIMEOUT 120)
endif()
