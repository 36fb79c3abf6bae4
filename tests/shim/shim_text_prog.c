/*
 * shim_text_prog.c - run with LD_PRELOAD=libobjmem-malloc.so (ctest
 * shim_text_resident): a process that only allocates keeps at most half
 * of the shim's code resident. The code every process runs (the malloc
 * family, the allocator, a heap's creation) is linked first
 * (cmake/part-shim.cmake, om_hot_objects), so the kernel's fault-around,
 * which maps 64 KiB windows of the file at each fault, never maps the
 * windows of the tracer, the collector and the types. Before that layout
 * all 33 of the 33 pages were resident (16 after). Reads its own /proc/self/pagemap
 * (the present bit needs no privilege). Prints "shim_text_prog: ok".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Pages of the mapping [lo, hi) present in this process. */
static long present_pages(int pm, unsigned long lo, unsigned long hi)
{
    long n = 0;
    for (unsigned long a = lo; a < hi; a += 4096) {
        uint64_t e = 0;
        if (pread(pm, &e, sizeof e, (off_t)(a / 4096 * 8)) != (ssize_t)sizeof e) return -1;
        n += (long)(e >> 63);
    }
    return n;
}

int main(void)
{
#if OM_DEBUG_LEVEL > 1
    /* level 2's checks make the hot code larger than one window */
    return printf("shim_text_prog: skipped (OM_DEBUG_LEVEL %d)\n", OM_DEBUG_LEVEL), 0;
#endif
    /* what most programs do: blocks of many sizes, reallocs, frees */
    static void *volatile keep[4096];
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 4096; i++) {
            free(keep[i]);
            keep[i] = malloc((size_t)(i * 37 % 3000) + 1);
            if (i % 7 == 0) keep[i] = realloc(keep[i], (size_t)(i % 700) + 1);
        }
    for (int i = 0; i < 4096; i++) free(keep[i]);

    FILE *maps = fopen("/proc/self/maps", "r");
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (!maps || pm < 0) return printf("shim_text_prog: skipped (no /proc)\n"), 0;
    char line[512];
    long total = 0, resident = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi, off;
        char perms[8];
        if (!strstr(line, "libobjmem-malloc.so") ||
            sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &off) != 4 ||
            strcmp(perms, "r-xp") != 0)
            continue;
        /* fault-around windows are aligned in the address space: the
         * layout keeps the hot code in the first window of the file only
         * when the library is loaded at a 64 KiB boundary (Linux 6.7 and
         * later place it at 2 MiB ones) */
        if ((lo - off) % 65536 != 0)
            return printf("shim_text_prog: skipped (loaded at %#lx, not a 64 KiB boundary)\n",
                          lo - off),
                   0;
        long n = present_pages(pm, lo, hi);
        if (n < 0) return printf("shim_text_prog: skipped (pagemap unreadable)\n"), 0;
        total += (long)((hi - lo) / 4096);
        resident += n;
    }
    if (total == 0) return fprintf(stderr, "shim_text_prog: the shim is not loaded\n"), 1;
    printf("shim_text_prog: %ld of %ld pages of the shim's code resident\n", resident, total);
    if (resident * 2 > total) {
        fprintf(stderr, "shim_text_prog: more than half of the shim's code is resident: the "
                        "code every process runs is not linked in a row\n");
        return 1;
    }
    printf("shim_text_prog: ok\n");
    return 0;
}
