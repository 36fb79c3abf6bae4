/*
 * harness.h - the small timing harness the benchmarks share (header only).
 *
 * A measurement runs a body once or more as warm-up, then a number of
 * repetitions, and reports the median in ns per operation. Time is the
 * process's CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID), so that a
 * busy shared machine taking the CPU away does not count; page faults and
 * other kernel work done for the process do count. Memory is read
 * from the kernel: the current resident set (VmRSS) and its high-water
 * mark (VmHWM) from /proc/self/status, with getrusage as the fallback for
 * the peak. bh_print_machine prints what a result needs to be compared:
 * the kernel (uname), the CPU model (/proc/cpuinfo), the compiler and the
 * git commit of the sources.
 *
 * Drivers run each peer in a child process (bh_spawn) and read its result
 * lines, so that no peer's malloc replaces another's.
 */
#ifndef OM_BENCH_HARNESS_H
#define OM_BENCH_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_SOURCE_DIR
#define BENCH_SOURCE_DIR "."
#endif

/* Keep the compiler from removing or reordering memory work across it. */
#define BH_BARRIER() __asm__ __volatile__("" ::: "memory")
/* Make v look used and unknown to the optimizer. */
#define BH_ESCAPE(v) __asm__ __volatile__("" : : "g"(v) : "memory")

static inline uint64_t bh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A line "key: value kB" of /proc/self/status, in kB; -1 if absent. */
static inline long bh_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    size_t n = strlen(key);
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Resident set now, in kB. */
static inline long bh_rss_kb(void)
{
    return bh_status_kb("VmRSS");
}

/* Highest resident set of the process so far, in kB. */
static inline long bh_peak_rss_kb(void)
{
    long v = bh_status_kb("VmHWM");
    if (v >= 0) return v;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* kB on Linux */
}

/* Reset the high-water mark (Linux >= 4.0: write 5 to clear_refs). */
static inline void bh_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static inline int bh_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double bh_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bh_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { BH_MAX_REPS = 64 };

/* Run body(ctx) warmup times untimed, then reps times timed; each run does
 * ops operations. Returns the median in ns per operation. */
static inline double bh_measure(void (*body)(void *), void *ctx, int warmup, int reps, double ops)
{
    double t[BH_MAX_REPS];
    if (reps > BH_MAX_REPS) reps = BH_MAX_REPS;
    for (int i = 0; i < warmup; i++) body(ctx);
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = bh_now_ns();
        body(ctx);
        t[i] = (double)(bh_now_ns() - t0) / ops;
    }
    return bh_median(t, reps);
}

/* bh_measure three times; the lowest median (a shared machine only ever
 * adds time). */
static inline double bh_measure_best(void (*body)(void *), void *ctx, int warmup, int reps,
                                     double ops)
{
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double v = bh_measure(body, ctx, warmup, reps, ops);
        if (i == 0 || v < best) best = v;
    }
    return best;
}

/* The first line of a command's output, or "?" (newline removed). */
static inline void bh_command_line(const char *cmd, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (fgets(buf, (int)n, p))
        buf[strcspn(buf, "\n")] = 0;
    else
        snprintf(buf, n, "?");
    pclose(p);
}

static inline void bh_print_machine(FILE *out)
{
    struct utsname u;
    if (uname(&u) == 0)
        fprintf(out, "machine:  %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
    char cpu[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) snprintf(cpu, sizeof cpu, "%s", c + 2);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        }
        fclose(f);
    }
    fprintf(out, "cpu:      %s (%ld online)\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    char load[128];
    bh_command_line("cat /proc/loadavg 2>/dev/null", load, sizeof load);
    fprintf(out, "load:     %s (at start; /proc/loadavg)\n", load);
#if defined(__clang__)
    fprintf(out, "compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    fprintf(out, "compiler: gcc %s\n", __VERSION__);
#endif
    char rev[128], dirty[16];
    bh_command_line("git -C '" BENCH_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null", rev,
                    sizeof rev);
    bh_command_line("git -C '" BENCH_SOURCE_DIR "' status --porcelain -uno 2>/dev/null | head -1 | "
                    "grep -q . && echo ' (modified)' || echo ''",
                    dirty, sizeof dirty);
    fprintf(out, "commit:   %s%s\n", rev, strcmp(dirty, "?") ? dirty : "");
}

/* The directory of this executable, with a trailing slash. */
static inline void bh_self_dir(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0) {
        snprintf(buf, n, "./");
        return;
    }
    buf[len] = 0;
    char *slash = strrchr(buf, '/');
    if (slash) slash[1] = 0;
}

#endif
