# part-html.cmake - the flame-graph library of `objmem snapshot html`
# (tools/snapshot_html.c): d3 and d3-flame-graph from the npm registry,
# installed with `npm ci` (versions pinned by tools/html/package-lock.json)
# into the build tree at configure time, then embedded into the objmem
# command by tools/snapshot_assets.c. Without npm the command is built
# without them and `objmem snapshot html` says so.
set(OM_HTML_DIR ${CMAKE_BINARY_DIR}/html-assets)
set(OM_HTML_FILES d3/dist/d3.min.js d3/LICENSE d3-flame-graph/dist/d3-flamegraph.min.js
    d3-flame-graph/dist/d3-flamegraph-colorMapper.min.js d3-flame-graph/dist/d3-flamegraph.css
    d3-flame-graph/LICENSE)
set(_om_lock ${PROJECT_SOURCE_DIR}/tools/html/package-lock.json)
find_program(OM_NPM npm)
if(OM_BUILD_TOOLS AND OM_NPM)
  file(SHA256 ${_om_lock} _om_lock_sum)
  set(_om_stamp ${OM_HTML_DIR}/installed-${_om_lock_sum})
  if(NOT EXISTS ${_om_stamp})
    file(MAKE_DIRECTORY ${OM_HTML_DIR})
    configure_file(${PROJECT_SOURCE_DIR}/tools/html/package.json ${OM_HTML_DIR}/package.json COPYONLY)
    configure_file(${_om_lock} ${OM_HTML_DIR}/package-lock.json COPYONLY)
    message(STATUS "objmem html: npm ci (d3, d3-flame-graph) into ${OM_HTML_DIR}")
    execute_process(COMMAND ${OM_NPM} ci --ignore-scripts --no-audit --no-fund
                    WORKING_DIRECTORY ${OM_HTML_DIR} RESULT_VARIABLE _om_npm_rc
                    OUTPUT_QUIET ERROR_VARIABLE _om_npm_err TIMEOUT 300)
    if(_om_npm_rc EQUAL 0)
      file(WRITE ${_om_stamp} "")
    else()
      message(STATUS "objmem html: npm ci failed: ${_om_npm_err}")
    endif()
  endif()
endif()
set(_om_html_ok ON)
set(_om_html_deps)
foreach(f ${OM_HTML_FILES})
  if(NOT EXISTS ${OM_HTML_DIR}/node_modules/${f})
    set(_om_html_ok OFF)
  endif()
  list(APPEND _om_html_deps ${OM_HTML_DIR}/node_modules/${f})
endforeach()
if(_om_html_ok)
  message(STATUS "objmem html: embedding d3 and d3-flame-graph from ${OM_HTML_DIR}")
  set_source_files_properties(${PROJECT_SOURCE_DIR}/tools/snapshot_assets.c PROPERTIES
    COMPILE_DEFINITIONS "OM_HTML_ASSETS=\"${OM_HTML_DIR}\""
    OBJECT_DEPENDS "${_om_html_deps}")
else()
  message(STATUS "objmem html: no flame-graph library (npm missing or failed): html reports off")
endif()
set(OM_HTML_OK ${_om_html_ok})

# The command line as a Unix tool (tests/tools/test_cli.sh).
if(OM_BUILD_TOOLS AND OM_BUILD_TESTS)
  add_test(NAME tool_cli COMMAND sh ${PROJECT_SOURCE_DIR}/tests/tools/test_cli.sh $<TARGET_FILE:objmem>)
  set_tests_properties(tool_cli PROPERTIES LABELS "unit;shell" TIMEOUT 120)
endif()
# The report in headless Chromium (tests/tools/test_html_browser.sh):
# skipped (exit 77) where chromium is not installed.
if(OM_BUILD_TOOLS AND OM_BUILD_TESTS AND OM_HTML_OK)
  add_test(NAME tool_html_browser
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/tools/test_html_browser.sh $<TARGET_FILE:objmem>)
  set_tests_properties(tool_html_browser PROPERTIES LABELS "browser" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endif()
