/*
 * peak.c - the peak and memory over time: the composition of traced memory
 * at its peak, kept as a copy of the per-traceback live sums (never of the
 * traces), recorded again only when a new peak exceeds the recorded one by
 * a fraction; and a bounded time series of traced memory and RSS sampled
 * every N allocations. Design note: docs/trace.md ("The peak", "Memory
 * over time").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "trace_int.h"

uint64_t om__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ the peak */

static size_t next_trigger(const om__tracestate *t)
{
    size_t step = (size_t)(((unsigned __int128)t->peak_rec * t->peak_step) >> 16);
    if (step == 0) step = 1;
    return t->peak_rec > SIZE_MAX - step ? SIZE_MAX : t->peak_rec + step;
}

/* Copy every traceback's live sums (Invariant 6 of om__tracestate). On no
 * memory the old record stays and the next new peak tries again. */
void om__trace_record_peak(om_heap *h, om__tracestate *t)
{
    if (t->ntbs > t->peak_cap) {
        size_t cap = t->peak_cap ? t->peak_cap : 256;
        while (cap < t->ntbs) cap *= 2;
        size_t *s = om__sys_realloc(h, t->peak_sizes, t->peak_cap * sizeof *s, cap * sizeof *s);
        if (!s) return;
        t->peak_sizes = s;
        size_t *c = om__sys_realloc(h, t->peak_counts, t->peak_cap * sizeof *c, cap * sizeof *c);
        if (!c) return; /* sizes grown, counts not: peak_cap stays the smaller */
        t->peak_counts = c;
        t->peak_cap = cap;
    }
    for (size_t i = 0; i < t->ntbs; i++) {
        t->peak_sizes[i] = t->tbs[i]->live_size;
        t->peak_counts[i] = t->tbs[i]->live_count;
    }
    t->peak_ntbs = t->ntbs;
    t->peak_rec = t->current;
    t->peak_next = next_trigger(t);
    t->peak_ns = om__now_ns() - t->t0_ns;
}

int om_trace_set_peak_fraction(om_heap *h, double fraction)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_set_peak_fraction: not tracing");
    if (!(fraction >= 0 && fraction <= 1))
        return om__err(h, OM_EINVAL, "om_trace_set_peak_fraction: %g is not in [0, 1]", fraction);
    t->peak_step = (unsigned)(fraction * 65536);
    t->peak_next = next_trigger(t);
    return 0;
}

/* ------------------------------------------------------------ time series */

static size_t rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long size, resident;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void om__trace_series_init(om__tracestate *t)
{
    t->t0_ns = t->last_ns = om__now_ns();
    t->peak_step = 4096;
    t->peak_next = 1;
    t->sample_every = 4096;
    t->sample_left = (long)t->sample_every;
}

void om__trace_series_free(om_heap *h, om__tracestate *t)
{
    if (t->samples) om__sys_free(h, t->samples, OM_TRACE_MAX_SAMPLES * sizeof *t->samples);
    if (t->peak_sizes) om__sys_free(h, t->peak_sizes, t->peak_cap * sizeof *t->peak_sizes);
    if (t->peak_counts) om__sys_free(h, t->peak_counts, t->peak_cap * sizeof *t->peak_counts);
    t->samples = NULL;
    t->peak_sizes = t->peak_counts = NULL;
    t->nsamples = t->peak_cap = t->peak_ntbs = 0;
}

/* Called when sample_left (counting traced allocations and frees) runs
 * out: sample if the interval (of events, or of time) has passed. */
void om__trace_sample(om_heap *h, om__tracestate *t)
{
    if (!t->sample_every) {
        t->sample_left = LONG_MAX;
        return;
    }
    t->sample_left = t->sample_ns ? 64 : (long)t->sample_every;
    uint64_t now = om__now_ns();
    if (t->sample_ns && now - t->last_ns < t->sample_ns) return;
    t->last_ns = now;
    if (!t->samples) {
        t->samples = om__sys_malloc(h, OM_TRACE_MAX_SAMPLES * sizeof *t->samples);
        if (!t->samples) return;
    }
    if (t->nsamples == OM_TRACE_MAX_SAMPLES) { /* keep every other one */
        for (size_t i = 0; i < OM_TRACE_MAX_SAMPLES / 2; i++) t->samples[i] = t->samples[2 * i + 1];
        t->nsamples = OM_TRACE_MAX_SAMPLES / 2;
        if (t->sample_ns)
            t->sample_ns *= 2;
        else if (t->sample_every < SIZE_MAX / 4)
            t->sample_every *= 2, t->sample_left = (long)t->sample_every;
    }
    t->samples[t->nsamples++] =
        (om_trace_sample){now - t->t0_ns, t->nallocs, t->current, t->peak, rss_bytes()};
}

int om_trace_set_sampling(om_heap *h, size_t every_allocs, uint64_t min_interval_ns)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err(h, OM_ESTATE, "om_trace_set_sampling: not tracing");
    if (every_allocs > (size_t)LONG_MAX) every_allocs = (size_t)LONG_MAX;
    t->sample_every = every_allocs;
    t->sample_ns = min_interval_ns;
    t->sample_left = !every_allocs ? LONG_MAX : min_interval_ns ? 64 : (long)every_allocs;
    return 0;
}

/* ------------------------------------------------------------ snapshots */

/* Give s the tracer's time series and peak (s->h is the tracer's heap). */
int om__snapshot_take_series(om_snapshot *s, const om__tracestate *t)
{
    s->peak = t->peak;
    s->peak_ns = t->peak_ns;
    s->taken_ns = om__now_ns() - t->t0_ns;
    if (!t->nsamples) return 0;
    s->samples = om__sys_malloc(s->h, t->nsamples * sizeof *s->samples);
    if (!s->samples) return OM_ENOMEM;
    memcpy(s->samples, t->samples, t->nsamples * sizeof *s->samples);
    s->nsamples = t->nsamples;
    return 0;
}

om_snapshot *om_trace_take_peak_snapshot(om_heap *h)
{
    om__tracestate *t = h->trace;
    if (!t) return om__err_null(h, OM_ESTATE, "om_trace_take_peak_snapshot: not tracing");
    if (t->peak > t->peak_rec && t->current == t->peak) om__trace_record_peak(h, t);
    om_snapshot *s = om__snapshot_new(h, t->nframe);
    if (!s) return NULL;
    om__sbuild b;
    om__sbuild_init(&b, s);
    om__symtab *st = om__trace_symtab(h);
    if (!st || om__snapshot_take_series(s, t) < 0) b.failed = 1;
    size_t bytes = 0;
    for (size_t i = 0; i < t->peak_ntbs && !b.failed; i++) {
        if (!t->peak_counts[i]) continue;
        om_frame frames[OM_TRACE_MAX_FRAMES];
        uint32_t total, n = om__tb_symbolize(st, t->tbs[i], t->nframe, frames, &total);
        const om_traceback *tb = om__sbuild_tb(&b, frames, n, total);
        if (tb) om__sbuild_trace_n(&b, 0, t->peak_sizes[i], t->peak_counts[i], tb);
        bytes += t->peak_sizes[i];
    }
    s->peak = bytes;
    s->kind = OM_SNAP_PEAK;
    return om__sbuild_finish(&b);
}

void om_snapshot_peak(const om_snapshot *s, size_t *peak, uint64_t *peak_ns)
{
    if (peak) *peak = s->peak;
    if (peak_ns) *peak_ns = s->peak_ns;
}

size_t om_snapshot_samples(const om_snapshot *s, const om_trace_sample **out)
{
    if (out) *out = s->samples;
    return s->nsamples;
}
