# part-cpython.cmake - objmem_cpython, the extension module that runs
# CPython 3.11 on objmem's allocator (tools/cpython/, docs/cpython.md).
# Built when Debian's python3.11 and its headers (python3.11-dev) are there;
# never under the sanitizers (the interpreter would need the ASan runtime
# preloaded). The module and its start-up hook go to
# ${CMAKE_BINARY_DIR}/cpython-site: PYTHONPATH=<that dir> python3.11 prog.py
set(OM_CPYTHON_PYTHON /usr/bin/python3.11 CACHE FILEPATH
    "The Python 3.11 whose object allocator objmem_cpython replaces")
option(OM_BUILD_CPYTHON "Build objmem_cpython when the Python headers are there" ON)

set(OM_CPYTHON_OK OFF)
if(OM_BUILD_CPYTHON AND NOT OM_SANITIZE AND EXISTS ${OM_CPYTHON_PYTHON})
  # sysconfig of that exact interpreter (not whichever python3 is on PATH)
  execute_process(
    COMMAND ${OM_CPYTHON_PYTHON} -c
      "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    OUTPUT_VARIABLE _om_py_out RESULT_VARIABLE _om_py_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_om_py_rc EQUAL 0)
    string(REPLACE "\n" ";" _om_py_out "${_om_py_out}")
    list(GET _om_py_out 0 OM_CPYTHON_INCLUDE)
    list(GET _om_py_out 1 OM_CPYTHON_SUFFIX)
    if(EXISTS ${OM_CPYTHON_INCLUDE}/Python.h)
      set(OM_CPYTHON_OK ON)
    endif()
  endif()
endif()

if(OM_CPYTHON_OK)
  set(OM_CPYTHON_SITE ${CMAKE_BINARY_DIR}/cpython-site)
  add_library(objmem_cpython MODULE ${PROJECT_SOURCE_DIR}/tools/cpython/objmem_cpython.c)
  target_include_directories(objmem_cpython SYSTEM PRIVATE ${OM_CPYTHON_INCLUDE})
  target_include_directories(objmem_cpython PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(objmem_cpython PRIVATE objmem_static)
  target_compile_options(objmem_cpython PRIVATE ${OM_WARNINGS})
  # objmem's symbols stay inside the module
  target_link_options(objmem_cpython PRIVATE -Wl,--exclude-libs,ALL)
  set_target_properties(objmem_cpython PROPERTIES
    PREFIX "" SUFFIX "${OM_CPYTHON_SUFFIX}"
    LIBRARY_OUTPUT_DIRECTORY ${OM_CPYTHON_SITE})
  foreach(f sitecustomize.py objmem_activate.pth)
    configure_file(${PROJECT_SOURCE_DIR}/tools/cpython/${f} ${OM_CPYTHON_SITE}/${f} COPYONLY)
  endforeach()
  message(STATUS "objmem_cpython: ${OM_CPYTHON_PYTHON} (${OM_CPYTHON_SUFFIX}) -> ${OM_CPYTHON_SITE}")
  if(OM_BUILD_TESTS)
    enable_testing()
    add_test(NAME cpython_smoke
             COMMAND ${OM_CPYTHON_PYTHON} ${PROJECT_SOURCE_DIR}/tools/cpython/smoke.py)
    set_tests_properties(cpython_smoke PROPERTIES LABELS cpython TIMEOUT 120
      ENVIRONMENT "PYTHONPATH=${OM_CPYTHON_SITE};OBJMEM_CPYTHON_COUNT=1")
  endif()
elseif(OM_BUILD_CPYTHON AND NOT OM_SANITIZE)
  message(STATUS "objmem_cpython: not built (needs ${OM_CPYTHON_PYTHON} and python3.11-dev)")
endif()
