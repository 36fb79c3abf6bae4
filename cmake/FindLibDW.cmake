# FindLibDW.cmake - libdw of elfutils (Debian: libdw-dev), as the imported
# target LibDW::LibDW. objmem's build uses it, and installs it next to
# objmemConfig.cmake so that find_package(objmem) finds libdw on the
# consumer's machine (find_dependency) instead of carrying this machine's
# absolute path in the exported targets.
#   LibDW_FOUND, LibDW::LibDW, LIBDW_LIBRARY, LIBDW_INCLUDE_DIR
find_path(LIBDW_INCLUDE_DIR elfutils/libdwfl.h)
find_library(LIBDW_LIBRARY dw)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibDW REQUIRED_VARS LIBDW_LIBRARY LIBDW_INCLUDE_DIR)
if(LibDW_FOUND AND NOT TARGET LibDW::LibDW)
  add_library(LibDW::LibDW UNKNOWN IMPORTED)
  set_target_properties(LibDW::LibDW PROPERTIES IMPORTED_LOCATION "${LIBDW_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${LIBDW_INCLUDE_DIR}")
endif()
mark_as_advanced(LIBDW_INCLUDE_DIR LIBDW_LIBRARY)
