/*
 * objmem.c - the objmem command: `objmem tour` walks through Python's
 * memory management on a live heap (make demo), `objmem tour --section
 * NAME` shows one part. Each section lives in tools/tour_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "tour.h"

int om_cmd_snapshot(int argc, char **argv); /* tools/snapshot_cmd.c */
int om_cmd_stats(int argc, char **argv);    /* tools/stats_cmd.c */
int om_cmd_soak(int argc, char **argv);     /* tools/soak_cmd.c */
int om_cmd_trace(int argc, char **argv);    /* tools/trace_cmd.c */
int om_cmd_graph(int argc, char **argv);    /* tools/graph_cmd.c */

static void usage(FILE *out)
{
    fprintf(out, "usage: objmem tour [--section NAME]\n       objmem tour --list\n");
    fprintf(out, "       objmem snapshot top|diff|folded|plot|html|demo ... "
                 "(objmem snapshot --help)\n");
    fprintf(out, "       objmem stats [--json]\n");
    fprintf(out, "       objmem soak [--minutes N] [--seed S] (a seeded random workload)\n");
    fprintf(out, "       objmem trace [-o FILE.omt] [--nframe N] [--interval S] -- PROG ARGS...\n");
    fprintf(out, "       objmem graph demo|render ... (pictures of a heap: objmem graph)\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        fprintf(stdout, "       objmem --version\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("objmem %d.%d.%d\n", OBJMEM_VERSION_MAJOR, OBJMEM_VERSION_MINOR,
               OBJMEM_VERSION_PATCH);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "tour") == 0) {
        if (argc == 3 && strcmp(argv[2], "--list") == 0) return om_tour_list(stdout);
        if (argc == 4 && strcmp(argv[2], "--section") == 0) return om_tour_run(argv[3]);
        if (argc == 2) return om_tour_run(NULL);
    }
    if (argc >= 2 && strcmp(argv[1], "snapshot") == 0) return om_cmd_snapshot(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "stats") == 0) return om_cmd_stats(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "soak") == 0) return om_cmd_soak(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "trace") == 0) return om_cmd_trace(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "graph") == 0) return om_cmd_graph(argc - 2, argv + 2);
    if (argc >= 2)
        fprintf(stderr, "objmem: unknown %s '%s'\n", argv[1][0] == '-' ? "option" : "command",
                argv[1]);
    usage(stderr);
    return 2;
}
