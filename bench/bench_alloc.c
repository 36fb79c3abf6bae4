/*
 * bench_alloc.c - the allocator benchmark driver (issue 2, item 7).
 *
 * Runs every workload of alloc_worker.c for objmem and each peer found at
 * configure time, each in its own process (alloc_<peer> next to this
 * executable), and prints one table: ns per operation, the ratio of each
 * peer's time to objmem's (above 1: objmem is faster), the peak resident
 * set and its growth during the workload. Then the RSS check: the resident
 * set before, at the peak of and after a 1 GiB build-and-free.
 *
 * Targets (DESIGN.md): faster than every peer on churn, >= 2x pymalloc;
 * RSS after the 1 GiB build-and-free <= 110 % of before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

typedef struct peer {
    const char *name;
    int built;        /* found at configure time */
    const char *skip; /* why not */
} peer;

#ifndef HAVE_MIMALLOC
#define HAVE_MIMALLOC 0
#endif
#ifndef HAVE_JEMALLOC
#define HAVE_JEMALLOC 0
#endif
#ifndef HAVE_TCMALLOC
#define HAVE_TCMALLOC 0
#endif
#ifndef HAVE_PYMALLOC
#define HAVE_PYMALLOC 0
#endif

static peer peers[] = {
    {"objmem", 1, NULL},
    {"glibc", 1, NULL},
    {"mimalloc", HAVE_MIMALLOC, "libmimalloc not found (apt-get install libmimalloc-dev)"},
    {"jemalloc", HAVE_JEMALLOC, "libjemalloc not found (apt-get install libjemalloc-dev)"},
    {"tcmalloc", HAVE_TCMALLOC, "libtcmalloc not found (apt-get install libgoogle-perftools-dev)"},
    {"pymalloc", HAVE_PYMALLOC, "libpython3.11 not found (apt-get install libpython3.11-dev)"},
};
enum { NPEERS = sizeof peers / sizeof peers[0] };

static const char *workloads[] = {"churn", "build", "lifo"};
static const char *workload_desc[] = {
    "churn: 100k live blocks, 4M x (free a random slot + malloc a new size), ns per pair",
    "build: malloc 5M blocks then free them all in order, ns per malloc+free",
    "lifo:  bursts of 1000 mallocs freed in reverse order, ns per malloc+free",
};
enum { NWORK = 3 };

static char dir[4096];
static char note[512]; /* the last "S ..." line a worker printed */

/* Run `alloc_<peer> arg`, copy the first line starting with tag to out. */
static int run_worker(const char *name, const char *arg, const char *tag, char *out, size_t n)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "'%salloc_%s' %s", dir, name, arg);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[4096];
    int found = -1;
    size_t tl = strlen(tag);
    while (fgets(line, sizeof line, p)) {
        if (found < 0 && strncmp(line, tag, tl) == 0 && line[tl] == ' ') {
            snprintf(out, n, "%s", line + tl + 1);
            out[strcspn(out, "\n")] = 0;
            found = 0;
        }
        if (strncmp(line, "S ", 2) == 0) {
            snprintf(note, sizeof note, "%.500s", line + 2);
            note[strcspn(note, "\n")] = 0;
        }
    }
    int st = pclose(p);
    return st == 0 ? found : -1;
}

int main(void)
{
    bh_self_dir(dir, sizeof dir);
    printf("== bench_alloc: objmem vs system allocators (each in its own process)\n");
    bh_print_machine(stdout);
    printf("\npeers:\n");
    for (int i = 0; i < NPEERS; i++) {
        char path[4300], d[4096];
        snprintf(path, sizeof path, "%salloc_%s", dir, peers[i].name);
        if (!peers[i].built || access(path, X_OK) != 0) {
            peers[i].built = 0;
            printf("  %-9s skipped: %s\n", peers[i].name,
                   peers[i].skip ? peers[i].skip : "worker not built");
            continue;
        }
        if (run_worker(peers[i].name, "describe", "D", d, sizeof d) != 0) {
            peers[i].built = 0;
            printf("  %-9s skipped: the worker failed to start\n", peers[i].name);
            continue;
        }
        printf("  %-9s %s\n", peers[i].name, d);
    }
    printf("\nworkloads (same pre-generated sizes for every peer: 80%% 16-64 B, 12%% 65-128,\n"
           "5%% 129-256, 3%% 257-512; median of 5-7 runs after 1 warm-up):\n");
    for (int w = 0; w < NWORK; w++) printf("  %s\n", workload_desc[w]);

    /* Rounds interleave the peers so that a burst of load elsewhere hits
     * them alike; each cell keeps its best (lowest) median over rounds. */
    const char *env = getenv("BENCH_ROUNDS");
    int rounds = env ? atoi(env) : 3;
    if (rounds < 1) rounds = 1;
    static double ns_best[NWORK][NPEERS];
    static long peak_kb[NWORK][NPEERS], drss_kb[NWORK][NPEERS];
    for (int r = 0; r < rounds; r++) {
        fprintf(stderr, "bench_alloc: round %d/%d\n", r + 1, rounds);
        for (int w = 0; w < NWORK; w++) {
            for (int i = 0; i < NPEERS; i++) {
                if (!peers[i].built) continue;
                char res[4096], wl[32];
                double ns;
                long peak, before;
                if (run_worker(peers[i].name, workloads[w], "R", res, sizeof res) != 0 ||
                    sscanf(res, "%31s %lf %ld %ld", wl, &ns, &peak, &before) != 4)
                    continue;
                if (ns_best[w][i] == 0 || ns < ns_best[w][i]) ns_best[w][i] = ns;
                if (peak > peak_kb[w][i]) peak_kb[w][i] = peak;
                if (peak - before > drss_kb[w][i]) drss_kb[w][i] = peak - before;
            }
        }
    }
    printf("\nns/op: process CPU time, median of 5-7 runs in a process, best of %d rounds\n"
           "peer/objmem: the peer's ns/op over objmem's (above 1: objmem is faster)\n"
           "peakRSS: the process's high-water mark (inputs included); dRSS: its growth\n"
           "during the workload\n",
           rounds);
    printf("\n%-6s %-9s %9s %13s %10s %10s\n", "work", "peer", "ns/op", "peer/objmem", "peakRSS MB",
           "dRSS MB");
    double churn_ns[NPEERS] = {0};
    for (int w = 0; w < NWORK; w++) {
        for (int i = 0; i < NPEERS; i++) {
            if (!peers[i].built) continue;
            double ns = ns_best[w][i];
            if (ns == 0) {
                printf("%-6s %-9s   failed\n", workloads[w], peers[i].name);
                continue;
            }
            if (w == 0) churn_ns[i] = ns;
            char ratio[32] = "-";
            if (ns_best[w][0] > 0) snprintf(ratio, sizeof ratio, "%.2f", ns / ns_best[w][0]);
            printf("%-6s %-9s %9.2f %13s %10.1f %10.1f\n", workloads[w], peers[i].name, ns, ratio,
                   peak_kb[w][i] / 1024.0, drss_kb[w][i] / 1024.0);
        }
    }
    fflush(stdout);

    printf("\nRSS check: build 1 GiB of requested bytes (sizes 16-512 B), free all\n");
    printf("%-9s %12s %12s %12s %13s\n", "peer", "before MB", "peak MB", "after MB",
           "after/before");
    double om_ratio = -1, om_trim_ratio = -1;
    for (int i = 0; i < NPEERS; i++) {
        if (!peers[i].built) continue;
        char r[4096];
        long before, peak, after, decayed = -1, trimmed = -1;
        if (run_worker(peers[i].name, "rss", "RSS", r, sizeof r) != 0 ||
            sscanf(r, "%ld %ld %ld %ld %ld", &before, &peak, &after, &decayed, &trimmed) < 3) {
            printf("%-9s failed\n", peers[i].name);
            continue;
        }
        double ratio = (double)after / (double)before;
        printf("%-9s %12.1f %12.1f %12.1f %12.0f%%\n", peers[i].name, before / 1024.0,
               peak / 1024.0, after / 1024.0, 100 * ratio);
        if (i == 0 && decayed > 0) {
            om_ratio = (double)decayed / (double)before;
            om_trim_ratio = (double)trimmed / (double)before;
            printf("%-9s %12s %12s %12.1f %12.0f%%  after the decay period (1 s)\n", "", "", "",
                   decayed / 1024.0, 100 * om_ratio);
            printf("%-9s %12s %12s %12.1f %12.0f%%  after om_heap_trim\n", "", "", "",
                   trimmed / 1024.0, 100 * om_trim_ratio);
        }
        if (i == 0 && note[0]) printf("          objmem at the end: %s\n", note);
        fflush(stdout);
    }

    printf("\ntargets:\n");
    if (churn_ns[0] > 0) {
        int faster = 1;
        for (int i = 1; i < NPEERS; i++)
            if (churn_ns[i] > 0 && churn_ns[i] <= churn_ns[0]) faster = 0;
        printf("  churn faster than every peer: %s\n", faster ? "met" : "NOT met");
        int py = NPEERS - 1;
        if (churn_ns[py] > 0)
            printf("  churn >= 2x pymalloc: %s (%.2fx)\n",
                   churn_ns[py] / churn_ns[0] >= 2 ? "met" : "NOT met", churn_ns[py] / churn_ns[0]);
    }
    if (om_ratio > 0)
        printf("  RSS after the decay period <= 110%% of before: %s (%.0f%%)\n",
               om_ratio <= 1.10 ? "met" : "NOT met", 100 * om_ratio);
    if (om_trim_ratio > 0)
        printf("  RSS right after om_heap_trim <= 110%% of before: %s (%.0f%%)\n",
               om_trim_ratio <= 1.10 ? "met" : "NOT met", 100 * om_trim_ratio);
    return 0;
}
