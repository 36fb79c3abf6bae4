/*
 * snapshot_html.h - the libraries embedded in the HTML report
 * (tools/snapshot_assets.c): NUL-terminated texts.
 */
#ifndef OM_SNAPSHOT_HTML_H
#define OM_SNAPSHOT_HTML_H

extern const char om_html_d3_js[], om_html_d3_licence[], om_html_fg_js[], om_html_fg_colors_js[],
    om_html_fg_css[], om_html_fg_licence[];
extern const int om_html_assets_ok; /* 0: built without them */

#endif
