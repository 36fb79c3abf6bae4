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
foreach(t objmem_static objmem_shared)
  target_link_libraries(${t} PUBLIC ${OM_TRACE_LIBS} ${CMAKE_DL_LIBS} pthread)
endforeach()
# Native tracebacks walk the frame-pointer chain: build objmem's own
# executables (tools, tests) with frame pointers too, so their frames show
# beyond the first. Embedders do the same for deep native tracebacks.
add_compile_options(-fno-omit-frame-pointer)

# (the libFuzzer targets are built by cmake/part-reliab.cmake)
