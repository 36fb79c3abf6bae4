# Tracing (src/trace/): file and line of native frames come from libdw
# (elfutils, Debian libdw-dev) when it is found; without it, frames are
# symbol+offset from dladdr. Option OM_LIBDW=OFF forces the fallback.
option(OM_LIBDW "Symbolize native trace frames with libdw (elfutils) when found" ON)
# libdw is the imported target LibDW::LibDW (cmake/FindLibDW.cmake, also
# installed for find_package(objmem)'s find_dependency): the exported
# targets name the target, not this machine's path to libdw.so.
if(OM_LIBDW)
  list(APPEND CMAKE_MODULE_PATH ${PROJECT_SOURCE_DIR}/cmake)
  find_package(LibDW QUIET)
endif()
if(OM_LIBDW AND LibDW_FOUND)
  message(STATUS "objmem trace: symbolizing with libdw (${LIBDW_LIBRARY})")
  target_compile_definitions(objmem_obj PRIVATE OM_HAVE_LIBDW)
  target_include_directories(objmem_obj PRIVATE ${LIBDW_INCLUDE_DIR})
  set(OM_TRACE_LIBS LibDW::LibDW)
else()
  message(STATUS "objmem trace: libdw not found, native frames are symbol+offset")
  set(OM_TRACE_LIBS)
  # dladdr names only exported symbols: export them from our executables
  # (tools, tests) so frames get names and objmem's own frames are skipped.
  set(CMAKE_ENABLE_EXPORTS ON)
endif()
# Unwinding code built without frame pointers: libunwind (Debian
# libunwind-dev) reads the .eh_frame tables, with a per-thread cache of
# frame descriptions; OM_LIBUNWIND=OFF leaves only the frame-pointer walk.
option(OM_LIBUNWIND "Unwind native trace frames with libunwind when found" ON)
if(OM_LIBUNWIND)
  find_library(OM_LIBUNWIND_LIB unwind)
  find_path(OM_LIBUNWIND_INC libunwind.h)
endif()
if(OM_LIBUNWIND AND OM_LIBUNWIND_LIB AND OM_LIBUNWIND_INC)
  message(STATUS "objmem trace: unwinding with libunwind (${OM_LIBUNWIND_LIB})")
  target_compile_definitions(objmem_obj PRIVATE OM_HAVE_LIBUNWIND)
  target_include_directories(objmem_obj PRIVATE ${OM_LIBUNWIND_INC})
  set(OM_TRACE_HAVE_UNWIND ON)
  foreach(t objmem_static objmem_shared) # by name: the exported targets say -lunwind
    target_link_libraries(${t} PUBLIC unwind)
  endforeach()
else()
  message(STATUS "objmem trace: libunwind not found, frame-pointer walk only")
endif()
foreach(t objmem_static objmem_shared)
  target_link_libraries(${t} PUBLIC ${OM_TRACE_LIBS} ${CMAKE_DL_LIBS} pthread)
endforeach()
# objmem's own code goes into the section objmem_text (cmake/om-text-section.sh),
# so the tracer recognises its frames by address in any build.
find_program(OM_OBJCOPY NAMES objcopy llvm-objcopy)
if(OM_OBJCOPY)
  set_property(TARGET objmem_obj PROPERTY C_COMPILER_LAUNCHER
               ${PROJECT_SOURCE_DIR}/cmake/om-text-section.sh ${OM_OBJCOPY} ${CMAKE_C_COMPILER_LAUNCHER})
endif()
# Native tracebacks walk the frame-pointer chain: build objmem's own
# executables (tools, tests) with frame pointers too, so their frames show
# beyond the first. Embedders do the same for deep native tracebacks.
add_compile_options(-fno-omit-frame-pointer)

# (the libFuzzer targets are built by cmake/part-reliab.cmake)
