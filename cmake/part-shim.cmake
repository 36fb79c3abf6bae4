# part-shim.cmake - the malloc replacement (tools/shim/, docs/shim.md):
#  objmem_mt            static: per-thread heaps and the malloc family under
#                       om__shim_* names (the tests and the TSan target use it)
#  objmem-malloc        libobjmem-malloc.so, the LD_PRELOAD library: the same
#                       code under the C library's names; only those exported
#  objmem-malloc-trace  libobjmem-malloc-trace.so: the same with the tracer,
#                       for `objmem trace`
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

# The LD_PRELOAD libraries: libobjmem-malloc.so, the allocator alone (its
# trace hooks are trace_off.c, its core objmem_nodeps below: no libunwind,
# libdw or what they load, about 1 MiB of resident memory and 1 ms of
# start-up per process), and libobjmem-malloc-trace.so, the same with
# `objmem trace` (trace.c), which the command preloads.
#
# The code every process runs (the malloc family, the allocator, a heap's
# creation) is linked first, as objects, and the rest of the core after it
# from the archive: so it lies in a row at the start of the text, and the
# kernel's fault-around (64 KiB windows of the file mapped at each fault)
# maps the windows of the tracer, the collector and the types only in a
# process that runs them. The plain library's text was resident whole (144
# of 144 KiB in a process that only allocates; bench/RESULTS.md, "The
# shim's text").
set(om_hot_objects "/src/(heap|alloc/(alloc|amap|arena|delayed|large|owner|pool|stats)|os/os|types/types|object/object|gc/(api|auto))[.]c[.]o$")
function(om_shim_library name core trace_source)
  if(core STREQUAL "objmem_nodeps")
    set(hot $<FILTER:$<TARGET_OBJECTS:objmem_obj>,INCLUDE,${om_hot_objects}>)
  else()
    set(hot "")
  endif()
  add_library(${name} SHARED ${OM_SHIM_DIR}/seam.c ${OM_SHIM_DIR}/boot.c ${OM_SHIM_DIR}/heaps.c
              ${OM_SHIM_DIR}/family.c ${trace_source} ${OM_SHIM_DIR}/interpose.c ${hot})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${OM_SHIM_DIR})
  target_compile_definitions(${name} PRIVATE OM_BUILD_CORE OM_SHIM_INTERPOSE
                             OM_DEBUG_LEVEL=${OM_DEBUG_LEVEL})
  target_compile_options(${name} PRIVATE ${OM_SHIM_FLAGS} -fvisibility=hidden)
  target_link_libraries(${name} PRIVATE ${core} ${CMAKE_DL_LIBS} pthread)
  target_link_options(${name} PRIVATE -Wl,--version-script=${OM_SHIM_DIR}/shim.map
                      -Wl,--exclude-libs,ALL -Wl,-z,nodelete -Wl,--as-needed)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS ${OM_SHIM_DIR}/shim.map)
  # the shim's code is objmem's too: in the section objmem_text, so the
  # tracer leaves its frames out of tracebacks (cmake/om-text-section.sh)
  if(OM_SHIM_OBJCOPY AND EXISTS ${PROJECT_SOURCE_DIR}/cmake/om-text-section.sh)
    set_property(TARGET ${name} PROPERTY C_COMPILER_LAUNCHER
                 ${PROJECT_SOURCE_DIR}/cmake/om-text-section.sh ${OM_SHIM_OBJCOPY})
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

if(NOT OM_SANITIZE AND NOT OM_TSAN)
  find_program(OM_SHIM_OBJCOPY NAMES objcopy llvm-objcopy)
  # objmem without libunwind and libdw for the plain library: the core's
  # objects but the unwinders and symbolizer built without them (the
  # frame-pointer walk and dladdr names: what a debug-mode report of the
  # plain library gets)
  set(OM_TRACE_DEP_SOURCES ${PROJECT_SOURCE_DIR}/src/trace/frames.c
      ${PROJECT_SOURCE_DIR}/src/trace/symbolize.c ${PROJECT_SOURCE_DIR}/src/trace/unwind.c
      ${PROJECT_SOURCE_DIR}/src/trace/dwfl_self.c)
  add_library(objmem_obj_nodeps OBJECT ${OM_TRACE_DEP_SOURCES})
  target_include_directories(objmem_obj_nodeps PRIVATE ${PROJECT_SOURCE_DIR}/include
                             ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(objmem_obj_nodeps PRIVATE OM_BUILD_CORE
                             OM_DEBUG_LEVEL=${OM_DEBUG_LEVEL})
  target_compile_options(objmem_obj_nodeps PRIVATE ${OM_WARNINGS} -fno-omit-frame-pointer)
  get_target_property(om_launcher objmem_obj C_COMPILER_LAUNCHER)
  if(om_launcher)
    set_property(TARGET objmem_obj_nodeps PROPERTY C_COMPILER_LAUNCHER ${om_launcher})
  endif()
  set(om_dep_objects "/src/trace/(frames|symbolize|unwind|dwfl_self)[.]c[.]o")
  add_library(objmem_nodeps STATIC
    $<FILTER:$<TARGET_OBJECTS:objmem_obj>,EXCLUDE,${om_dep_objects}>
    $<TARGET_OBJECTS:objmem_obj_nodeps>)
  target_include_directories(objmem_nodeps PUBLIC ${PROJECT_SOURCE_DIR}/include)
  # (no -lm: its one call, frexp, is libc's too, and libm is 300 KiB resident)
  target_link_libraries(objmem_nodeps PUBLIC ${CMAKE_DL_LIBS} pthread)
  om_shim_library(objmem-malloc objmem_nodeps ${OM_SHIM_DIR}/trace_off.c)
  om_shim_library(objmem-malloc-trace objmem_static ${OM_SHIM_DIR}/trace.c)
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
  # the code every process runs lies in a row (om_hot_objects above)
  add_executable(shim_text_prog ${PROJECT_SOURCE_DIR}/tests/shim/shim_text_prog.c)
  target_compile_options(shim_text_prog PRIVATE ${OM_WARNINGS} -fno-builtin)
  target_compile_definitions(shim_text_prog PRIVATE _GNU_SOURCE OM_DEBUG_LEVEL=${OM_DEBUG_LEVEL})
  add_dependencies(shim_text_prog objmem-malloc)
  add_test(NAME shim_text_resident COMMAND shim_text_prog)
  set_tests_properties(shim_text_resident PROPERTIES LABELS "unit;preload" TIMEOUT 120
    ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:objmem-malloc>"
    PASS_REGULAR_EXPRESSION "shim_text_prog: (ok|skipped)")
endif()

# The plain library loads nothing but the C library (no tracer's libraries:
# cmake/part-shim.cmake om_shim_library), and says that OBJMEM_TRACE needs
# the tracing one.
if(OM_BUILD_TESTS AND TARGET objmem-malloc)
  add_test(NAME shim_plain_needs_libc_only COMMAND sh -c
    "readelf -d \"$0\" | grep NEEDED | grep -v -e 'libc[.]so' -e 'ld-linux' && exit 1; \
     OBJMEM_TRACE=/dev/null LD_PRELOAD=\"$0\" ls / 2>&1 >/dev/null | grep -q 'objmem trace -- PROG'"
    $<TARGET_FILE:objmem-malloc>)
  set_tests_properties(shim_plain_needs_libc_only PROPERTIES LABELS "unit;preload" TIMEOUT 60)
endif()

# `objmem trace -- PROG` on an unmodified program (tests/shim/trace_test.sh).
if(OM_BUILD_TESTS AND TARGET objmem-malloc AND OM_BUILD_TOOLS)
  add_executable(leak_prog ${PROJECT_SOURCE_DIR}/tests/shim/leak_prog.c)
  target_compile_options(leak_prog PRIVATE -g -O0)
  add_dependencies(leak_prog objmem-malloc-trace objmem)
  add_test(NAME shim_trace COMMAND sh ${PROJECT_SOURCE_DIR}/tests/shim/trace_test.sh
           $<TARGET_FILE:objmem> $<TARGET_FILE:leak_prog> ${CMAKE_CURRENT_BINARY_DIR}/shim_trace)
  set_tests_properties(shim_trace PROPERTIES LABELS "unit;preload" TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "trace_test: ok")
endif()
