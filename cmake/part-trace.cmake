# Tracing (src/trace/): file and line of native frames come from libdw
# (elfutils, Debian libdw-dev) when it is found; without it, frames are
# symbol+offset from dladdr. Option OM_LIBDW=OFF forces the fallback.
option(OM_LIBDW "Symbolize native trace frames with libdw (elfutils) when found" ON)
if(OM_LIBDW)
  find_library(OM_LIBDW_LIB dw)
  find_path(OM_LIBDW_INC elfutils/libdwfl.h)
endif()
if(OM_LIBDW AND OM_LIBDW_LIB AND OM_LIBDW_INC)
  message(STATUS "objmem trace: symbolizing with libdw (${OM_LIBDW_LIB})")
  target_compile_definitions(objmem_obj PRIVATE OM_HAVE_LIBDW)
  target_include_directories(objmem_obj PRIVATE ${OM_LIBDW_INC})
  set(OM_TRACE_LIBS ${OM_LIBDW_LIB})
else()
  message(STATUS "objmem trace: libdw not found, native frames are symbol+offset")
  set(OM_TRACE_LIBS)
  # dladdr names only exported symbols: export them from our executables
  # (tools, tests) so frames get names and objmem's own frames are skipped.
  set(CMAKE_ENABLE_EXPORTS ON)
endif()
foreach(t objmem_static objmem_shared)
  target_link_libraries(${t} PUBLIC ${OM_TRACE_LIBS} ${CMAKE_DL_LIBS} pthread)
endforeach()
# Native tracebacks walk the frame-pointer chain: build objmem's own
# executables (tools, tests) with frame pointers too, so their frames show
# beyond the first. Embedders do the same for deep native tracebacks.
add_compile_options(-fno-omit-frame-pointer)

# (the libFuzzer targets are built by cmake/part-reliab.cmake)
