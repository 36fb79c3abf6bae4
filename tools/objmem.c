/*
 * objmem.c - the objmem command: `objmem tour` walks through Python's
 * memory management on a live heap (make demo), `objmem tour --section
 * NAME` shows one part. Each section lives in tools/tour_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "tour.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: objmem tour [--section NAME]\n       objmem tour --list\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "tour") == 0) {
        if (argc == 3 && strcmp(argv[2], "--list") == 0) return om_tour_list(stdout);
        if (argc == 4 && strcmp(argv[2], "--section") == 0) return om_tour_run(argv[3]);
        if (argc == 2) return om_tour_run(NULL);
    }
    usage(stderr);
    return 2;
}
