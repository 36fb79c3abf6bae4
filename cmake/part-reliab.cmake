# Reliability (docs/reliability.md): the fuzz targets tests/fuzz/fuzz_*.c.
# Always (with the tests): each target is also a plain program linked with
# tests/fuzz/fuzz_main.c that runs its corpus tests/fuzz/corpus/<target>/
# as a ctest (label fuzz), so gcc builds run the corpus in `make test`.
# With OM_BUILD_FUZZ and clang: libFuzzer executables <target>, the library
# instrumented for coverage (`make fuzz`).
file(GLOB OM_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
list(FILTER OM_FUZZ_SOURCES EXCLUDE REGEX "fuzz_main\\.c$")
set(OM_FUZZ_CLANG OFF)
if(OM_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(OM_FUZZ_CLANG ON)
  target_compile_options(objmem_obj PRIVATE -fsanitize=fuzzer-no-link)
endif()
if(OM_BUILD_TESTS)
  enable_testing()
endif()
foreach(src ${OM_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  if(OM_BUILD_TESTS)
    add_executable(${name}_run ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_main.c)
    target_link_libraries(${name}_run PRIVATE objmem::objmem)
    target_compile_options(${name}_run PRIVATE ${OM_WARNINGS} -Wno-missing-prototypes)
    if(OM_FUZZ_CLANG)
      target_compile_options(${name}_run PRIVATE -fsanitize=fuzzer-no-link)
    endif()
    add_test(NAME ${name}_corpus
             COMMAND ${name}_run ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(${name}_corpus PROPERTIES LABELS fuzz TIMEOUT 600)
  endif()
  if(OM_FUZZ_CLANG)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE objmem::objmem)
  endif()
endforeach()
