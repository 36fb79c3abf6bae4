/*
 * trace.c - `objmem trace -- PROG` inside the shim. The command sets
 * OBJMEM_TRACE=FILE (and OBJMEM_TRACE_NFRAME, _PID, _INTERVAL) and preloads
 * the shim; here every thread then uses the shared heap, which traces
 * every block with its native traceback. A snapshot of the live blocks is
 * written to FILE when the program exits (what is live then is what
 * leaked), to FILE.N.omt on SIGUSR2 and every interval seconds. Processes
 * the program starts are not traced unless OBJMEM_TRACE_CHILDREN=1
 * (objmem trace --children); then they write FILE.PID. While a snapshot is written (the
 * shared lock held), this thread's own allocations (libdw's, symbolizing)
 * come from the reentry heap, untraced (heaps.c).
 * Design note: docs/shim.md ("objmem trace").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal/delayed.h"
#include "shim_trace.h"

static _Atomic int trace_on = -1; /* -1: environment not read yet */
static char out_path[4096];
static int nframe = 10;
static double interval; /* seconds between snapshots, 0: none */
static double next_due;
static unsigned nsnap;
static om_heap *traced; /* under the shared lock */
static _Atomic int usr2;
static int no_output; /* a fork child when children are not traced */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The environment, once (getenv does not allocate). */
int om__shim_trace_on(void)
{
    int v = atomic_load_explicit(&trace_on, memory_order_relaxed);
    if (om__likely(v >= 0)) return v;
    const char *path = getenv("OBJMEM_TRACE");
    const char *pid = getenv("OBJMEM_TRACE_PID");
    const char *children = getenv("OBJMEM_TRACE_CHILDREN");
    int main_process = pid && atol(pid) == (long)getpid();
    v = path && *path && strlen(path) < sizeof out_path - 32 &&
        (main_process || (children && strcmp(children, "1") == 0));
    if (v) {
        if (main_process)
            snprintf(out_path, sizeof out_path, "%s", path);
        else /* a process the program started (objmem trace --children) */
            snprintf(out_path, sizeof out_path, "%s.%ld", path, (long)getpid());
        const char *nf = getenv("OBJMEM_TRACE_NFRAME");
        if (nf && atoi(nf) >= 1 && atoi(nf) <= OM_TRACE_MAX_FRAMES) nframe = atoi(nf);
        const char *iv = getenv("OBJMEM_TRACE_INTERVAL");
        if (iv && atof(iv) > 0) interval = atof(iv);
    }
    atomic_store_explicit(&trace_on, v, memory_order_relaxed);
    return v;
}

void om__shim_trace_fork_child(void)
{
    if (atomic_load(&trace_on) != 1) return;
    const char *path = getenv("OBJMEM_TRACE");
    const char *children = getenv("OBJMEM_TRACE_CHILDREN");
    if (path) snprintf(out_path, sizeof out_path, "%s.%ld", path, (long)getpid());
    nsnap = 0;
    if (!children || strcmp(children, "1") != 0) no_output = 1; /* still traced: writes nothing */
}

static void on_usr2(int sig)
{
    (void)sig;
    atomic_store(&usr2, 1);
}

void om__shim_trace_shared_made(om_heap *h)
{
    if (!om__shim_trace_on()) return;
    if (om_trace_start(h, nframe) < 0) return;
    traced = h;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    if (interval > 0) next_due = now() + interval;
}

/* Write a snapshot of the traced heap to path (shared lock held). */
static void write_snapshot(const char *path)
{
    (void)om__delayed_drain(traced); /* frees queued while the lock was busy */
    om_snapshot *s = om_trace_take_snapshot(traced);
    if (s) {
        if (om_snapshot_dump(s, path) < 0) {
            char msg[160];
            int n = snprintf(msg, sizeof msg, "objmem trace: cannot write %s\n", path);
            if (n > 0) (void)!write(2, msg, (size_t)n);
        }
        om_snapshot_free(s);
    }
}

/* FILE.N.omt for the N-th snapshot taken while running. */
static void write_numbered(void)
{
    char path[sizeof out_path + 32];
    size_t n = strlen(out_path);
    const char *ext = n > 4 && strcmp(out_path + n - 4, ".omt") == 0 ? ".omt" : "";
    snprintf(path, sizeof path, "%.*s.%u%s", (int)(n - strlen(ext)), out_path, ++nsnap, ext);
    write_snapshot(path);
}

void om__shim_trace_tick(om_heap *h)
{
    if (h != traced || no_output) return;
    if (om__unlikely(atomic_load_explicit(&usr2, memory_order_relaxed))) {
        atomic_store(&usr2, 0);
        write_numbered();
    }
    if (interval > 0 && om__unlikely(now() >= next_due)) {
        next_due = now() + interval;
        write_numbered();
    }
}

/* At exit (after the program's own handlers; threads may still run and
 * allocate: they wait for the lock meanwhile). */
__attribute__((destructor)) static void trace_at_exit(void)
{
    if (atomic_load(&trace_on) != 1 || no_output) return;
    om_heap *h = om__shim_shared_lock();
    if (h && h == traced) write_snapshot(out_path);
    om__shim_shared_unlock();
}
