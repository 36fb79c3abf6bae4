/*
 * objmem/trace.h - allocation tracing in the manner of Python's tracemalloc:
 * traces of live blocks with the traceback where each was allocated,
 * snapshots, statistics grouped by file, line or traceback, comparison of
 * snapshots, filters, and a versioned dump format.
 * Design note and file format: docs/trace.md.
 *
 * Frames are the native call stack by default (raw return addresses,
 * captured cheaply; turned into file, line and function only when a
 * snapshot is taken), or whatever an embedder's frame provider supplies
 * (an interpreter's script frames).
 *
 * Tracebacks are stored most recent frame first (frames[0] is where the
 * block was allocated); Python shows them oldest first, and its ordering of
 * tracebacks (used to sort statistics) compares them oldest first, as here.
 *
 * Include <objmem.h>, not this file.
 */
#ifndef OBJMEM_TRACE_H
#define OBJMEM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

struct om_object;

enum { OM_TRACE_MAX_FRAMES = 128 }; /* the largest nframe om_trace_start accepts */

/* One frame: a file and a line (tracemalloc.Frame). name is the function
 * when known (native frames with symbols), else NULL; it takes no part in
 * grouping or comparison. */
typedef struct om_frame {
    const char *filename; /* never NULL ("<unknown>" when nothing is known) */
    uint32_t lineno;      /* 0 when unknown                                */
    const char *name;     /* function, or NULL                             */
} om_frame;

/* A traceback: nframe frames, most recent first. total_nframe is the depth
 * of the stack when it was captured: the provider's depth, or for native
 * frames nframe + 1 when the walk stopped at the limit (deeper, by how much
 * is not measured: the walk stops there to stay cheap). */
typedef struct om_traceback {
    const om_frame *frames;
    uint32_t nframe;
    uint32_t total_nframe;
} om_traceback;

/* An embedder's frames: write at most max frames (most recent first) to
 * frames and return the depth of the stack (which may exceed max). The
 * strings are copied by the tracer; they need only live during the call.
 * Called on every allocation while tracing: keep it cheap, and never
 * allocate from the traced heap in it. */
typedef int (*om_frame_provider)(void *ctx, om_frame *frames, int max);

/* ------------------------------------------------------------ tracing */

/* Start tracing every block of h, keeping nframe frames per traceback
 * (1 <= nframe <= OM_TRACE_MAX_FRAMES). Blocks allocated before are not
 * traced. Already tracing: only the frame limit changes (like Python).
 * Returns 0, OM_EINVAL or OM_ENOMEM. */
int om_trace_start(om_heap *h, int nframe);
/* Stop tracing and forget every trace. No-op when not tracing. */
void om_trace_stop(om_heap *h);
/* 1 when h is tracing. */
int om_trace_is_tracing(const om_heap *h);
/* The frame limit given to om_trace_start, or 0 when not tracing. */
int om_trace_get_traceback_limit(const om_heap *h);
/* Bytes of traced blocks now and at the peak since start or the last
 * om_trace_reset_peak (requested sizes, as tracemalloc counts). Both 0 when
 * not tracing. */
void om_trace_get_traced_memory(const om_heap *h, size_t *current, size_t *peak);
/* Set the peak to the current traced memory (and record the peak's
 * composition anew). */
void om_trace_reset_peak(om_heap *h);
/* Forget every trace (tracemalloc.clear_traces): traced memory, its peak,
 * the peak's composition and the time series start again from 0. Blocks
 * allocated before are no longer traced; tracing goes on. */
void om_trace_clear_traces(om_heap *h);
/* How closely the peak's composition follows the peak: it is recorded
 * again (a copy of the per-traceback sums, O(tracebacks), never of the
 * traces) whenever traced memory exceeds the recorded peak by more than
 * fraction (0 <= fraction <= 1; 0: at every new peak; default 1/16), so
 * the recorded moment holds at least peak / (1 + fraction) bytes.
 * Returns 0, OM_ESTATE when not tracing, OM_EINVAL. */
int om_trace_set_peak_fraction(om_heap *h, double fraction);

/* One sample of the time series of traced memory. */
typedef struct om_trace_sample {
    uint64_t t_ns;   /* since om_trace_start (CLOCK_MONOTONIC)           */
    uint64_t allocs; /* traced allocations so far                        */
    size_t traced;   /* traced bytes then                                */
    size_t peak;     /* the peak of traced bytes until then              */
    size_t rss;      /* resident set size of the process, 0 when unknown */
} om_trace_sample;

/* Sample traced memory (and the RSS, from /proc/self/statm) every
 * every_allocs traced allocations and frees (0: no time series), or with
 * min_interval_ns > 0 at most that often (checked every 64 allocations).
 * The series keeps at most 4096 samples: when full, every other sample is
 * dropped and the interval doubles. Default: every 4096 events.
 * Returns 0, OM_ESTATE when not tracing. */
int om_trace_set_sampling(om_heap *h, size_t every_allocs, uint64_t min_interval_ns);
/* Bytes the tracer itself uses (its tables, tracebacks, frames). */
size_t om_trace_get_memory(const om_heap *h);
/* Supply frames from fn(ctx) instead of the native stack; fn NULL goes
 * back to native frames. Applies from the next allocation until tracing
 * stops (om_trace_stop forgets it). Returns 0, or OM_ESTATE when not
 * tracing. */
int om_trace_set_frame_provider(om_heap *h, om_frame_provider fn, void *ctx);

/* How native frames are unwound. */
typedef enum om_unwind {
    OM_UNWIND_AUTO = 0,  /* frame pointers for nframe 1 (exact: objmem keeps them),
                            the unwind tables for deeper stacks (the default) */
    OM_UNWIND_FP = 1,    /* the frame-pointer chain only: the cheapest, right only
                            through code built with -fno-omit-frame-pointer       */
    OM_UNWIND_TABLES = 2 /* the .eh_frame unwind tables always: objmem's own walk
                            (x86-64, libdw), libunwind where it gives up      */
} om_unwind;

/* Choose how native frames are unwound from the next allocation on
 * (om_trace_start reads OBJMEM_TRACE_UNWIND=auto|fp|tables first). A build
 * with neither libdw on x86-64 nor libunwind walks frame pointers whatever
 * the mode (docs/trace.md, "Frames"). Returns 0,
 * OM_ESTATE when not tracing, OM_EINVAL for an unknown mode. */
int om_trace_set_unwind(om_heap *h, om_unwind mode);
/* 1 when h's tracer unwinds with the tables now (mode and build allow it). */
int om_trace_unwinds_with_tables(const om_heap *h);

/* Trace size bytes at ptr under domain (domain 0 is the heap's own blocks;
 * use another number for memory allocated elsewhere). Tracing the same
 * (domain, ptr) again replaces its trace. Returns 0, OM_ESTATE when not
 * tracing, OM_ENOMEM, OM_EINVAL when the traced total would pass SIZE_MAX
 * (nothing changes). */
int om_trace_track(om_heap *h, unsigned domain, uintptr_t ptr, size_t size);
/* Forget the trace of (domain, ptr). Returns 0, OM_ESTATE when not
 * tracing, OM_EKEY when it was not traced. */
int om_trace_untrack(om_heap *h, unsigned domain, uintptr_t ptr);

/* The traceback where block p of h (domain 0) / object o was allocated,
 * symbolized; NULL when tracing is off or the block is not traced. Free it
 * with om_traceback_free (the heap must still exist). */
om_traceback *om_trace_block_traceback(om_heap *h, const void *p);
/* tracemalloc.get_object_traceback: the traceback where object o was
 * allocated, as om_trace_block_traceback (free it with om_traceback_free
 * and o's heap); NULL when o is not traced. */
om_traceback *om_trace_object_traceback(const struct om_object *o);
/* Free a traceback from om_trace_block_traceback or
 * om_trace_object_traceback. tb NULL is a no-op. */
void om_traceback_free(om_heap *h, om_traceback *tb);

/* Write tb like tracemalloc.Traceback.format: lines '  File "F", line N'
 * ending in '\n', oldest frame first unless most_recent_first. limit 0:
 * all frames; limit > 0: the limit most recent frames; limit < 0: all but
 * the -limit most recent (Python's slices). Writes at most size bytes
 * (NUL-terminated when size > 0) and returns the length of the whole text,
 * like snprintf. */
size_t om_traceback_format(const om_traceback *tb, int limit, int most_recent_first, char *buf,
                           size_t size);

/* ------------------------------------------------------------ snapshots */

typedef struct om_snapshot om_snapshot;

/* One trace of a snapshot: a block, or (in a peak snapshot) the blocks of
 * one traceback together. */
typedef struct om_trace_entry {
    unsigned domain;
    size_t size;                   /* bytes (of all count blocks)      */
    const om_traceback *traceback; /* owned by the snapshot            */
    size_t count;                  /* blocks: 1, more in peak snapshots */
} om_trace_entry;

/* A copy of every trace of h, its tracebacks symbolized. Memory comes from
 * h's seam: free it with om_snapshot_free before h is destroyed. NULL with
 * OM_ESTATE when not tracing, or OM_ENOMEM. */
om_snapshot *om_trace_take_snapshot(om_heap *h);
/* Free a snapshot (from om_trace_take_snapshot, om_snapshot_filter or
 * om_snapshot_load) and its tracebacks. NULL is a no-op. */
void om_snapshot_free(om_snapshot *s);
/* The traces live when traced memory was highest (as recorded under
 * om_trace_set_peak_fraction), one entry per traceback with its block
 * count, and the time series; statistics, compare, dump work as on any
 * snapshot. NULL with OM_ESTATE when not tracing, or OM_ENOMEM. */
om_snapshot *om_trace_take_peak_snapshot(om_heap *h);
/* The peak of traced bytes when s was taken, and when it was recorded (ns
 * since tracing started); both 0 when s does not know (a version 1 dump).
 * For a peak snapshot, *peak is the bytes of its traces. */
void om_snapshot_peak(const om_snapshot *s, size_t *peak, uint64_t *peak_ns);
/* The time series stored in s (*out borrowed from s) and its length. */
size_t om_snapshot_samples(const om_snapshot *s, const om_trace_sample **out);
/* The traces of s (*out borrowed from s) and their number. */
size_t om_snapshot_traces(const om_snapshot *s, const om_trace_entry **out);
/* The frame limit of the tracer when s was taken. */
int om_snapshot_traceback_limit(const om_snapshot *s);

typedef enum om_stat_key {
    OM_STAT_FILENAME = 0, /* group by the most recent frame's file          */
    OM_STAT_LINENO = 1,   /* ... by its file and line                        */
    OM_STAT_TRACEBACK = 2 /* ... by the whole traceback                      */
} om_stat_key;

/* One group: the key as a traceback (one frame, line 0 for filename
 * grouping), total size and number of blocks, and for comparisons the
 * differences to the old snapshot. */
typedef struct om_stat {
    om_traceback traceback;
    size_t size;
    size_t count;
    ptrdiff_t size_diff;  /* om_snapshot_compare only */
    ptrdiff_t count_diff; /* om_snapshot_compare only */
} om_stat;

typedef struct om_stats {
    om_stat *items; /* sorted as Python sorts them */
    size_t n;
} om_stats;

/* Statistics of s grouped by key, sorted biggest first by (size, count,
 * traceback) as Snapshot.statistics does. cumulative: every frame of a
 * traceback counts, not only the most recent (not with OM_STAT_TRACEBACK:
 * OM_EINVAL). The result borrows strings from s: free it first, with
 * om_stats_free. NULL on error (recorded in s's heap). */
om_stats *om_snapshot_statistics(const om_snapshot *s, om_stat_key key, int cumulative);
/* Snapshot.compare_to: groups of new_s with their differences to old_s
 * (groups only in old_s have size 0), sorted by (|size_diff|, size,
 * |count_diff|, count, traceback), biggest first. */
om_stats *om_snapshot_compare(const om_snapshot *new_s, const om_snapshot *old_s, om_stat_key key,
                              int cumulative);
/* Free statistics from om_snapshot_statistics or om_snapshot_compare.
 * NULL is a no-op. */
void om_stats_free(om_stats *st);

/* Write one statistic as str(tracemalloc.Statistic) does (diff 0), or
 * str(StatisticDiff) (diff 1): 'FILE:LINE: size=74.2 KiB, count=500,
 * average=152 B', sizes as tracemalloc formats them; the group's most
 * recent frame names it (':LINE' left out when the line is 0, as for
 * frames without debug information). Writes at most n bytes (NUL-terminated
 * when n > 0) and returns the length of the whole text, like snprintf. */
size_t om_stat_format(const om_stat *s, int diff, char *buf, size_t n);
/* A byte count as tracemalloc's _format_size writes it ('4160 B',
 * '74.2 KiB', '138 KiB'); sign 1 adds '+' to positive values. Returns the
 * length, like snprintf. */
size_t om_format_size(double size, int sign, char *buf, size_t n);

/* A filter (tracemalloc.Filter, or DomainFilter when filename_pattern is
 * NULL). */
typedef struct om_filter {
    int inclusive;                /* 1: keep matches; 0: drop matches          */
    const char *filename_pattern; /* fnmatch(3) pattern; NULL: domain only      */
    long lineno;                  /* the line to match; -1: any line           */
    int all_frames;               /* 1: any frame may match; 0: the most recent */
    long domain;                  /* the domain to match; -1: any domain       */
} om_filter;

/* Snapshot.filter_traces: a new snapshot with the traces of s that pass
 * every exclusive filter and, if there are inclusive ones, at least one
 * of them. n 0 copies s. Pattern syntax errors make no match. */
om_snapshot *om_snapshot_filter(const om_snapshot *s, const om_filter *filters, size_t n);

/* Write s to path in the format of docs/trace.md (version 1). Returns 0,
 * OM_EIO, OM_ENOMEM, or OM_EINVAL when a frame's file or function name is
 * longer than 1 MiB (the longest string the format holds). */
int om_snapshot_dump(const om_snapshot *s, const char *path);
/* Read a dump. A truncated, corrupt or hostile file (a count or length
 * larger than the file, an index out of range, a string over 1 MiB) gives
 * NULL with OM_EFORMAT (OM_EIO when it cannot be read) recorded in h;
 * never a crash. */
om_snapshot *om_snapshot_load(om_heap *h, const char *path);
/* The same from len bytes at data. */
om_snapshot *om_snapshot_load_buffer(om_heap *h, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
