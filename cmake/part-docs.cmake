# part-docs.cmake - the source checks as tests (label unit). The API
# reference's own check:
# every public function of include/objmem/*.h has a comment of its own
# (tools/check-docs.pl, which `make docs` also runs before Doxygen). In the
# suite so that a function added without one fails the build's tests at
# once, naming the function and its header line.
if(OM_BUILD_TESTS)
  enable_testing()
  find_program(OM_PERL perl)
  if(OM_PERL)
    add_test(NAME docs_check COMMAND sh ${PROJECT_SOURCE_DIR}/tests/docs/test_check_docs.sh
                                     ${PROJECT_SOURCE_DIR})
    set_tests_properties(docs_check PROPERTIES LABELS unit TIMEOUT 60)
    # the layers point one way: src/alloc/ calls nothing of src/trace/ or
    # src/gc/ (tools/check-layers.pl). Label shell: a script, kept out of
    # `make valgrind` (memcheck of sh itself reports a defect there).
    add_test(NAME layers_check COMMAND sh ${PROJECT_SOURCE_DIR}/tests/tools/test_check_layers.sh
                                       ${PROJECT_SOURCE_DIR})
    set_tests_properties(layers_check PROPERTIES LABELS shell TIMEOUT 60)
  endif()
endif()
