/*
 * snapshot_assets.c - the flame-graph library the HTML report embeds:
 * d3 (ISC licence) and d3-flame-graph (Apache-2.0), installed from the npm
 * registry into the build tree at configure time (cmake/part-html.cmake,
 * versions pinned by tools/html/package-lock.json) and linked into the
 * objmem command here with .incbin, each NUL-terminated, with its licence.
 * Built without them (no npm), om_html_assets_ok is 0 and `objmem
 * snapshot html` says so.
 */
#include "snapshot_html.h"

#ifdef OM_HTML_ASSETS
#define OM_ASSET(sym, file)                                                                        \
    ".pushsection .rodata\n.balign 16\n.globl " sym "\n" sym ":\n.incbin \"" OM_HTML_ASSETS        \
    "/node_modules/" file "\"\n.byte 0\n.popsection\n"
__asm__(OM_ASSET("om_html_d3_js", "d3/dist/d3.min.js") OM_ASSET("om_html_d3_licence", "d3/LICENSE")
            OM_ASSET("om_html_fg_js", "d3-flame-graph/dist/d3-flamegraph.min.js")
                OM_ASSET("om_html_fg_colors_js",
                         "d3-flame-graph/dist/d3-flamegraph-colorMapper.min.js")
                    OM_ASSET("om_html_fg_css", "d3-flame-graph/dist/d3-flamegraph.css")
                        OM_ASSET("om_html_fg_licence", "d3-flame-graph/LICENSE"));
const int om_html_assets_ok = 1;
#else
const char om_html_d3_js[] = "", om_html_d3_licence[] = "", om_html_fg_js[] = "",
           om_html_fg_colors_js[] = "", om_html_fg_css[] = "", om_html_fg_licence[] = "";
const int om_html_assets_ok = 0;
#endif
