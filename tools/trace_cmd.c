/*
 * trace_cmd.c - `objmem trace [-o FILE.omt] [--nframe N] [--interval S]
 * -- PROG ARGS`: run an unmodified program on libobjmem-malloc-trace.so
 * (the shim with tracing, tools/shim/trace.c; the plain libobjmem-malloc.so
 * has no tracer, cmake/part-shim.cmake) with tracing on, then print the leak report: what was
 * still allocated at exit, grouped by allocation traceback, largest first.
 * The snapshot written at exit is read by `objmem snapshot top/diff/...`;
 * `kill -USR2 PID` writes FILE.N.omt while the program runs.
 * Design note: docs/shim.md ("objmem trace").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objmem.h"

int om_cmd_trace(int argc, char **argv);

static void trace_usage(FILE *out)
{
    fprintf(out, "usage: objmem trace [-o FILE.omt] [--nframe N] [--interval SECONDS] [--top N]\n"
                 "                    -- PROG [ARGS...]\n"
                 "  Runs PROG with objmem's malloc and tracing on (libobjmem-malloc-trace.so).\n"
                 "  At exit the live blocks (the leaks) go to FILE.omt (default\n"
                 "  objmem-trace.omt) and the largest groups by traceback to stderr.\n"
                 "  kill -USR2 <pid> writes FILE.N.omt while it runs; --interval writes one\n"
                 "  every SECONDS. Processes PROG starts write FILE.omt.<pid>. Read them with:\n"
                 "  objmem snapshot top|diff|folded. OBJMEM_SHIM=path overrides where\n"
                 "  libobjmem-malloc-trace.so is looked for.\n");
}

/* libobjmem-malloc-trace.so: $OBJMEM_SHIM, beside this executable (the
 * build tree), or in the library directory of the installation. */
static int find_shim(char *out, size_t n)
{
    const char *env = getenv("OBJMEM_SHIM");
    if (env && *env) return snprintf(out, n, "%s", env) < (int)n && access(out, R_OK) == 0 ? 0 : -1;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = '\0';
    static const char *const rel[] = {"", "/../lib", "/../lib64", "/../lib/x86_64-linux-gnu"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        if (snprintf(out, n, "%s%s/libobjmem-malloc-trace.so", self, rel[i]) >= (int)n) continue;
        if (access(out, R_OK) == 0) return 0;
    }
    return -1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void fmt_bytes(char *buf, size_t n, double b)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) b /= 1024, i++;
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* The leak report of dump path: the top groups by traceback, to stderr. */
static int leak_report(const char *path, long top)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return 1;
    om_snapshot *s = om_snapshot_load(h, path);
    if (!s) {
        fprintf(stderr, "objmem trace: %s: %s\n", path, om_errmsg(h));
        om_heap_destroy(h);
        return 1;
    }
    om_stats *st = om_snapshot_statistics(s, OM_STAT_TRACEBACK, 0);
    if (st) {
        size_t bytes = 0, blocks = 0;
        for (size_t i = 0; i < st->n; i++) bytes += st->items[i].size, blocks += st->items[i].count;
        char b[32];
        fmt_bytes(b, sizeof b, (double)bytes);
        fprintf(stderr, "objmem trace: %s live at exit in %zu block%s, %zu traceback%s (%s)\n", b,
                blocks, blocks == 1 ? "" : "s", st->n, st->n == 1 ? "" : "s", path);
        for (size_t i = 0; i < st->n && (long)i < top; i++) {
            char sz[32], tb[8192];
            fmt_bytes(sz, sizeof sz, (double)st->items[i].size);
            fprintf(stderr, "#%zu: %s in %zu block%s\n", i + 1, sz, st->items[i].count,
                    st->items[i].count == 1 ? "" : "s");
            om_traceback_format(&st->items[i].traceback, 0, 1, tb, sizeof tb);
            fputs(tb, stderr);
        }
        om_stats_free(st);
    }
    om_snapshot_free(s);
    om_heap_destroy(h);
    return 0;
}

int om_cmd_trace(int argc, char **argv)
{
    const char *out = "objmem-trace.omt", *interval = NULL;
    long nframe = 16, top = 10;
    int i = 0, children = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            trace_usage(stdout);
            return 0;
        } else if (strcmp(a, "-o") == 0 && v) {
            out = v, i++;
        } else if (strcmp(a, "--nframe") == 0 && v) {
            if (parse_long(v, 1, OM_TRACE_MAX_FRAMES, &nframe) < 0) {
                fprintf(stderr, "objmem trace: --nframe %s: a number from 1 to %d\n", v,
                        OM_TRACE_MAX_FRAMES);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--interval") == 0 && v) {
            if (atof(v) <= 0) {
                fprintf(stderr, "objmem trace: --interval %s: seconds, more than 0\n", v);
                return 2;
            }
            interval = v, i++;
        } else if (strcmp(a, "--children") == 0) {
            children = 1;
        } else if (strcmp(a, "--top") == 0 && v) {
            if (parse_long(v, 0, LONG_MAX, &top) < 0) {
                fprintf(stderr, "objmem trace: --top %s: a number >= 0\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "objmem trace: unknown option %s\n", a);
            trace_usage(stderr);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        trace_usage(stderr);
        return 2;
    }
    char shim[PATH_MAX];
    if (find_shim(shim, sizeof shim) < 0) {
        fprintf(stderr, "objmem trace: libobjmem-malloc-trace.so not found (set OBJMEM_SHIM)\n");
        return 1;
    }
    char **prog = argv + i + 1;
    unlink(out);
    pid_t pid = fork();
    if (pid < 0) {
        perror("objmem trace: fork");
        return 1;
    }
    if (pid == 0) {
        char pidbuf[32], nf[32];
        snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
        snprintf(nf, sizeof nf, "%ld", nframe);
        const char *old = getenv("LD_PRELOAD");
        char *pre = malloc(strlen(shim) + (old ? strlen(old) : 0) + 2);
        if (!pre) _exit(127);
        sprintf(pre, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
        setenv("LD_PRELOAD", pre, 1);
        setenv("OBJMEM_TRACE", out, 1);
        setenv("OBJMEM_TRACE_PID", pidbuf, 1);
        setenv("OBJMEM_TRACE_NFRAME", nf, 1);
        if (interval) setenv("OBJMEM_TRACE_INTERVAL", interval, 1);
        setenv("OBJMEM_TRACE_CHILDREN", children ? "1" : "0", 1);
        execvp(prog[0], prog);
        fprintf(stderr, "objmem trace: %s: %s\n", prog[0], strerror(errno));
        _exit(127);
    }
    signal(SIGINT, SIG_IGN); /* the program decides what ^C does */
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 1;
    if (access(out, R_OK) == 0)
        leak_report(out, top);
    else
        fprintf(stderr, "objmem trace: %s has no snapshot (did PROG end by _exit or a signal?)\n",
                out);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
