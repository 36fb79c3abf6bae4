# part-shim.cmake - the malloc replacement (tools/shim/, docs/shim.md):
#  objmem_mt            static: per-thread heaps and the malloc family under
#                       om__shim_* names (the tests and the TSan target use it)
#  objmem-malloc        libobjmem-malloc.so, the LD_PRELOAD library: the same
#                       code under the C library's names; only those exported
# OM_TSAN=ON builds everything with ThreadSanitizer (`make test-tsan`).
option(OM_TSAN "Build with ThreadSanitizer (make test-tsan)" OFF)
if(OM_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  target_compile_options(objmem_obj PRIVATE -fsanitize=thread)
endif()

set(OM_SHIM_DIR ${PROJECT_SOURCE_DIR}/tools/shim)
set(OM_SHIM_SOURCES ${OM_SHIM_DIR}/seam.c ${OM_SHIM_DIR}/boot.c ${OM_SHIM_DIR}/heaps.c
    ${OM_SHIM_DIR}/family.c ${OM_SHIM_DIR}/trace.c)
# -fno-builtin: gcc must not turn malloc + memset into a call of calloc
# inside calloc itself, and the like.
set(OM_SHIM_FLAGS ${OM_WARNINGS} -fno-builtin -ftls-model=initial-exec -fno-omit-frame-pointer)

add_library(objmem_mt STATIC ${OM_SHIM_SOURCES})
target_include_directories(objmem_mt PUBLIC ${PROJECT_SOURCE_DIR}/src ${OM_SHIM_DIR})
target_compile_definitions(objmem_mt PUBLIC OM_BUILD_CORE PRIVATE OM_DEBUG_LEVEL=${OM_DEBUG_LEVEL})
target_compile_options(objmem_mt PRIVATE ${OM_SHIM_FLAGS})
target_link_libraries(objmem_mt PUBLIC objmem_static pthread)

if(NOT OM_SANITIZE AND NOT OM_TSAN)
  add_library(objmem-malloc SHARED ${OM_SHIM_SOURCES} ${OM_SHIM_DIR}/interpose.c)
  target_include_directories(objmem-malloc PRIVATE ${PROJECT_SOURCE_DIR}/src ${OM_SHIM_DIR})
  target_compile_definitions(objmem-malloc PRIVATE OM_BUILD_CORE OM_SHIM_INTERPOSE
                             OM_DEBUG_LEVEL=${OM_DEBUG_LEVEL})
  target_compile_options(objmem-malloc PRIVATE ${OM_SHIM_FLAGS} -fvisibility=hidden)
  target_link_libraries(objmem-malloc PRIVATE objmem_static ${CMAKE_DL_LIBS} pthread)
  target_link_options(objmem-malloc PRIVATE -Wl,--version-script=${OM_SHIM_DIR}/shim.map
                      -Wl,--exclude-libs,ALL -Wl,-z,nodelete)
  set_target_properties(objmem-malloc PROPERTIES LINK_DEPENDS ${OM_SHIM_DIR}/shim.map)
  # the shim's code is objmem's too: in the section objmem_text, so the
  # tracer leaves its frames out of tracebacks (cmake/om-text-section.sh)
  find_program(OM_SHIM_OBJCOPY NAMES objcopy llvm-objcopy)
  if(OM_SHIM_OBJCOPY AND EXISTS ${PROJECT_SOURCE_DIR}/cmake/om-text-section.sh)
    set_property(TARGET objmem-malloc PROPERTY C_COMPILER_LAUNCHER
                 ${PROJECT_SOURCE_DIR}/cmake/om-text-section.sh ${OM_SHIM_OBJCOPY})
  endif()
  install(TARGETS objmem-malloc LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

if(OM_BUILD_TESTS)
  enable_testing()
  foreach(name test_shim_threads test_shim_family)
    add_executable(${name} ${PROJECT_SOURCE_DIR}/tests/shim/${name}.c)
    target_link_libraries(${name} PRIVATE objmem_mt om_test_support)
    target_compile_options(${name} PRIVATE ${OM_WARNINGS} -Wno-missing-prototypes -fno-builtin)
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "unit;thread" TIMEOUT 600)
  endforeach()
endif()

# The LD_PRELOAD library as programs see it (tests/shim/shim_prog.c); label
# preload: not under Valgrind, which brings its own malloc.
if(OM_BUILD_TESTS AND TARGET objmem-malloc)
  add_executable(shim_prog ${PROJECT_SOURCE_DIR}/tests/shim/shim_prog.c)
  target_compile_options(shim_prog PRIVATE ${OM_WARNINGS} -fno-builtin)
  target_compile_definitions(shim_prog PRIVATE _GNU_SOURCE)
  target_link_libraries(shim_prog PRIVATE ${CMAKE_DL_LIBS} pthread)
  add_dependencies(shim_prog objmem-malloc)
  add_test(NAME shim_preload COMMAND shim_prog)
  add_test(NAME shim_preload_debug COMMAND shim_prog --join)
  set_tests_properties(shim_preload PROPERTIES LABELS "unit;preload" TIMEOUT 120
    ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:objmem-malloc>" PASS_REGULAR_EXPRESSION "shim_prog: ok")
  set_tests_properties(shim_preload_debug PROPERTIES LABELS "unit;preload" TIMEOUT 120
    ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:objmem-malloc>;OBJMEM_DEBUG=1"
    PASS_REGULAR_EXPRESSION "shim_prog: ok")
endif()

# `objmem trace -- PROG` on an unmodified program (tests/shim/trace_test.sh).
if(OM_BUILD_TESTS AND TARGET objmem-malloc AND OM_BUILD_TOOLS)
  add_executable(leak_prog ${PROJECT_SOURCE_DIR}/tests/shim/leak_prog.c)
  target_compile_options(leak_prog PRIVATE -g -O0)
  add_dependencies(leak_prog objmem-malloc objmem)
  add_test(NAME shim_trace COMMAND sh ${PROJECT_SOURCE_DIR}/tests/shim/trace_test.sh
           $<TARGET_FILE:objmem> $<TARGET_FILE:leak_prog> ${CMAKE_CURRENT_BINARY_DIR}/shim_trace)
  set_tests_properties(shim_trace PROPERTIES LABELS "unit;preload" TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "trace_test: ok")
endif()
