/*
 * unwind.c - the table walk: native tracebacks through code built without
 * frame pointers, from the .eh_frame tables, on x86-64 with libdw.
 * Design note: docs/trace.md ("Frames").
 *
 * Why not libunwind alone: unw_backtrace costs about 500 instructions per
 * call (a context save, a cursor set up) and 75 per frame (a probe of its
 * per-thread frame cache, hashed over 256 KiB), so a 10-frame traceback of
 * an unmodified program was 1,300 instructions per allocation, and perl
 * under `objmem trace` spent 40 % of its time in libunwind
 * (bench/RESULTS.md, "The table walk"). Here each return address's rule is
 * worked out once, by libdw from the tables (dwarf_cfi_addrframe), and kept
 * in a small open-addressing table of 16-byte rules: a walk is then a probe
 * and one or two stack loads per frame, with no set-up. Only the rules that
 * gcc and clang emit at call sites are kept (the CFA is rsp or rbp plus a
 * constant, the return address at CFA - 8, rbp saved at a constant offset
 * from the CFA or unchanged). Anything else -- a signal frame, a CFA
 * expression, code with no tables (JIT code) -- makes the walk give up,
 * and the caller walks again with libunwind (frames.c).
 *
 * The walk starts from objmem's own frames, which always have frame
 * pointers (cmake/part-trace.cmake): the first return address outside
 * objmem and the caller's rsp and rbp at that call come from the chain
 * (fp[1], fp + 2, fp[0]), so no register context is saved. Every stack
 * address read is checked against the thread's stack bounds first.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "trace_int.h"

#if defined(OM_HAVE_LIBDW) && defined(__x86_64__)
#include <dwarf.h>
#include <elfutils/libdwfl.h>

#include "dwfl_self.h"

enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 }; /* DWARF numbers, x86-64 */

typedef struct rule {
    uintptr_t ip;    /* the return address; 0: an empty slot       */
    int32_t cfa_off; /* OM_CFI_RSP, OM_CFI_RBP: CFA = rsp/rbp + this */
    int16_t rbp_off; /* rbp saved at CFA + rbp_off; 0: unchanged   */
    uint8_t kind;    /* OM_CFI_* (trace_int.h)                     */
    uint8_t pad;
} rule;
_Static_assert(sizeof(rule) == 16, "a rule is 16 bytes");

/* One frame of a walk: the state at it (its return address, and the
 * caller's rsp and rbp there) and where the walk read the next frame's
 * return address and rbp (0: not read). */
typedef struct om__wframe {
    uintptr_t ip, sp, bp;
    uintptr_t ra_at, bp_at;
    unsigned flags; /* W_* */
} om__wframe;
enum {
    W_RBP_CFA = 1, /* the frame's CFA is rbp-based                      */
    W_BP_USED = 2  /* the walk from here on depends on bp (mark_bp_used) */
};

/* Invariants:
 *  1. rules is an open-addressing table with linear probing, keyed by ip,
 *     capacity mask + 1 a power of two, n <= capacity / 2. A rule never
 *     changes once made (code does not move while it can be on a stack;
 *     docs/trace.md, "Limits", for modules unloaded and others mapped at
 *     their addresses). A return address in no known module has no rule
 *     (describe): its module may be mapped after the modules were read.
 *  2. The last walk: last[0 .. nlast - 1] are the frames of the last
 *     walk that did not give up, last[nlast] the state it stopped at (ip
 *     0: it reached the outermost frame), flags as mark_bp_used sets them. A walk is a function of
 *     its starting state and of the words it reads from the stack, as
 *     rules do not change: so a walk that reaches the state of the last
 *     walk's frame j, while each word the last walk read from frame j on
 *     still holds the value it read, would find the same frames from j on,
 *     and takes them from the record (a comparison per word read, where
 *     walking is a probe of the rules and a dependent load per frame).
 *     Tracebacks of one program share their outer frames, so most walks
 *     work out only the frames near the allocation. Nothing here depends
 *     on the thread: a stack another thread has since reused is checked
 *     like any other. */
struct om__cfi {
    rule *rules;
    size_t mask, n;
    Dwfl *dwfl;            /* the process's modules, from /proc/self/maps */
    int dwfl_failed;       /* dwfl_begin or the report failed: no more tries */
    size_t misses;         /* return addresses found in no module (uncached) */
    size_t report_at;      /* misses at which the modules are read again     */
    size_t walks, gave_up; /* walks, and those that gave up (om__cfi_stats) */
    size_t frames;         /* frames found by the walks                      */
    om__wframe *last;      /* the last walk: last[0 .. nlast] (invariant 2)  */
    om__wframe *scratch;   /* where a walk writes its frames                 */
    int nlast;
    om__wframe buf[2][OM_TRACE_MAX_FRAMES + 1]; /* what last and scratch name */
};

static inline size_t slot_of(const om__cfi *c, uintptr_t ip)
{
    return (size_t)((ip * 0x9E3779B97F4A7C15ull) >> 20) & c->mask;
}

/* ------------------------------------------------------------ the rules */

static Dwfl *modules(om__cfi *c, int again)
{
    if (c->dwfl_failed) return NULL;
    if (c->dwfl && !again) return c->dwfl;
    if (!(c->dwfl = om__dwfl_report_self(c->dwfl))) {
        c->dwfl_failed = 1;
        return NULL;
    }
    c->report_at = 2 * c->misses + 1; /* the next miss, then backing off (JIT code) */
    return c->dwfl;
}

/* The offset N of a register rule "saved at CFA + N" (libdw spells it
 * DW_OP_call_frame_cfa, then DW_OP_plus_uconst N or DW_OP_consts N,
 * DW_OP_plus); 0 when it is something else. */
static int64_t cfa_offset_of(const Dwarf_Op *ops, size_t nops)
{
    if (nops < 1 || ops[0].atom != DW_OP_call_frame_cfa) return 0;
    if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) return (int64_t)ops[1].number;
    if (nops == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus)
        return (int64_t)ops[1].number;
    return 0;
}

/* The rule of frame f (found for a call just before a return address). */
static void rule_from_frame(Dwarf_Frame *f, rule *r)
{
    bool sig = false;
    Dwarf_Op *ops, mem[3];
    size_t nops;
    if (dwarf_frame_info(f, NULL, NULL, &sig) != REG_RA || sig) return;
    if (dwarf_frame_register(f, REG_RA, mem, &ops, &nops) != 0) return;
    if (nops == 0 && ops == mem) { /* undefined: the outermost frame */
        r->kind = OM_CFI_END;
        return;
    }
    if (cfa_offset_of(ops, nops) != -8) return;
    if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_bregx ||
        (ops[0].number != REG_RSP && ops[0].number != REG_RBP) ||
        (int64_t)ops[0].number2 != (int32_t)ops[0].number2)
        return;
    unsigned kind = ops[0].number == REG_RSP ? OM_CFI_RSP : OM_CFI_RBP;
    int32_t cfa_off = (int32_t)ops[0].number2;
    int16_t rbp_off = 0;
    if (dwarf_frame_register(f, REG_RBP, mem, &ops, &nops) != 0) return;
    if (nops != 0 || ops != NULL) { /* not "same value": saved at CFA + N */
        int64_t off = cfa_offset_of(ops, nops);
        if (off == 0 || off != (int16_t)off) return;
        rbp_off = (int16_t)off;
    }
    r->cfa_off = cfa_off;
    r->rbp_off = rbp_off;
    r->kind = (uint8_t)kind;
}

/* Work out the rule of return address ip from the tables: 1, or 0 when
 * no module holds ip. A miss is not kept (a module mapped since the
 * modules were read, by dlopen, is found when they are read again: on the
 * next miss, then after each doubling of the misses, so that JIT code does
 * not reread /proc/self/maps on every walk). */
static int describe(om__cfi *c, uintptr_t ip, rule *r)
{
    r->ip = ip;
    r->kind = OM_CFI_OTHER;
    Dwfl *d = modules(c, 0);
    if (!d) return 1; /* no modules at all: nothing will change */
    Dwfl_Module *m = om__dwfl_module_of(d, ip - 1);
    if (!m) {
        if (++c->misses < c->report_at || !(d = modules(c, 1))) return 0;
        if (!(m = om__dwfl_module_of(d, ip - 1))) return 0;
    }
    Dwarf_Addr bias;
    Dwarf_CFI *cfi = dwfl_module_eh_cfi(m, &bias);
    Dwarf_Frame *f = NULL;
    if (!cfi || dwarf_cfi_addrframe(cfi, ip - 1 - bias, &f) != 0) return 1;
    rule_from_frame(f, r);
    free(f);
    return 1;
}

static int grow(om_heap *h, om__cfi *c)
{
    size_t cap = c->rules ? (c->mask + 1) * 2 : 1024;
    rule *v = om__sys_calloc(h, cap, sizeof *v);
    if (!v) return -1;
    rule *old = c->rules;
    size_t old_cap = old ? c->mask + 1 : 0;
    c->rules = v;
    c->mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].ip) continue;
        size_t j = slot_of(c, old[i].ip);
        while (v[j].ip) j = (j + 1) & c->mask;
        v[j] = old[i];
    }
    if (old) om__sys_free(h, old, old_cap * sizeof *old);
    return 0;
}

/* The rule of ip, made on first sight; NULL when memory ran out. */
static om__noinline const rule *rule_new(om_heap *h, om__cfi *c, uintptr_t ip)
{
    if ((c->n + 1) * 2 > c->mask + 1 && grow(h, c) < 0) return NULL;
    static const rule miss = {.kind = OM_CFI_OTHER};
    rule r = {0};
    if (!describe(c, ip, &r)) return &miss;
    size_t i = slot_of(c, ip);
    while (c->rules[i].ip) i = (i + 1) & c->mask;
    c->rules[i] = r;
    c->n++;
    return &c->rules[i];
}

static inline const rule *rule_of(om_heap *h, om__cfi *c, uintptr_t ip)
{
    if (om__likely(c->rules != NULL))
        for (size_t i = slot_of(c, ip);; i = (i + 1) & c->mask) {
            if (c->rules[i].ip == ip) return &c->rules[i];
            if (!c->rules[i].ip) break;
        }
    return rule_new(h, c, ip);
}

/* ------------------------------------------------------------- the walk */

/* 1 when the 8 bytes at a lie in the stack [lo, hi) and are aligned. */
static inline int on_stack(uintptr_t a, uintptr_t lo, uintptr_t hi)
{
    return a >= lo && a <= hi - 8 && !(a & 7);
}

/* 1 when the stack still holds what the last walk read from frame j on
 * (see "The last walk" above struct om__cfi). The reads may land in what is
 * now another function's frame, redzones included: not instrumented. */
__attribute__((no_sanitize("address"))) static int still_there(const om__wframe *w, int j, int nw,
                                                               uintptr_t lo, uintptr_t hi)
{
    for (int m = j; m < nw; m++) {
        uintptr_t ra = w[m].ra_at, bpa = w[m].bp_at;
        if (ra && (!on_stack(ra, lo, hi) || *(const uintptr_t *)ra != w[m + 1].ip)) return 0;
        if (bpa && (w[m + 1].flags & W_BP_USED) &&
            (!on_stack(bpa, lo, hi) || *(const uintptr_t *)bpa != w[m + 1].bp))
            return 0;
    }
    return 1;
}

/* Which frames' bp the rest of the walk depends on: a frame whose CFA is
 * rbp-based, and those below it up to the frame that reloads rbp from the
 * stack. Elsewhere rbp is a register like any other (perl's functions
 * keep data in it), so a walk compares it only where it is used. Marks
 * w[0 .. k - 1], where w[k]'s is used (W_BP_USED or 0). */
static void mark_bp_used(om__wframe *w, int k, unsigned used)
{
    while (k-- > 0) {
        if (w[k].bp_at) used = 0; /* the next frame's bp came from the stack */
        if (w[k].flags & W_RBP_CFA) used = W_BP_USED;
        w[k].flags = (w[k].flags & W_RBP_CFA) | used;
    }
}

static int gave_up(om__cfi *c)
{
    c->gave_up++;
    return -1;
}

/* The last walk's frames from frame j on, t of them, become the new
 * walk's from frame n on (its frames before n are in the scratch): the
 * record is the new walk, out and *depth its result. */
static int take_last(om__cfi *c, uintptr_t *out, int n, int j, int t, uint32_t *depth)
{
    om__wframe *rec = c->last;
    if (n != j) memmove(rec + n, rec + j, (size_t)(t + 1) * sizeof *rec);
    memcpy(rec, c->scratch, (size_t)n * sizeof *rec);
    c->nlast = n + t;
    mark_bp_used(rec, n, rec[n].flags & W_BP_USED);
    for (int k = n; k < n + t; k++) out[k] = rec[k].ip;
    c->frames += (size_t)(n + t);
    *depth = (uint32_t)(n + t) + (rec[n + t].ip != 0); /* more: counted as one */
    return n + t;
}

/* The walk proper, from the state (ip, sp, bp) at objmem's caller. Each
 * frame: the last walk's frames from here on, when this frame's state is
 * one of theirs and the stack still holds what they read (still_there),
 * else the frame's rule, the return address at CFA - 8 and maybe rbp. */
__attribute__((no_sanitize("address"))) static int walk(om_heap *h, om__cfi *c, uintptr_t *out,
                                                        int max, uint32_t *depth, uintptr_t lo,
                                                        uintptr_t hi, uintptr_t ip, uintptr_t sp,
                                                        uintptr_t bp)
{
    om__wframe *w = c->scratch;
    const om__wframe *old = c->last;
    int nold = c->nlast, j = 0, n = 0;
    uint32_t d = 0;
    for (;;) {
        w[n] = (om__wframe){ip, sp, bp, 0, 0, 0};
        if (!ip) break;
        d++;
        if (n == max) break;
        while (j < nold && old[j].sp < sp) j++;
        if (j < nold && old[j].sp == sp && old[j].ip == ip &&
            (old[j].bp == bp || !(old[j].flags & W_BP_USED))) {
            int t = nold - j < max - n ? nold - j : max - n;
            /* a last walk cut short by a smaller max cannot finish this one */
            if ((!old[nold].ip || n + t == max) && still_there(old, j, j + t, lo, hi))
                return take_last(c, out, n, j, t, depth);
            j = nold; /* once per walk */
        }
        out[n] = ip;
        const rule *r = rule_of(h, c, ip);
        if (om__unlikely(!r || r->kind >= OM_CFI_END)) {
            if (!r || r->kind != OM_CFI_END) return gave_up(c);
            n++, ip = 0; /* the outermost frame */
            continue;
        }
        uintptr_t cfa = (r->kind == OM_CFI_RBP ? bp : sp) + (uintptr_t)(intptr_t)r->cfa_off;
        if (om__unlikely(!on_stack(cfa - 8, lo, hi))) return gave_up(c);
        w[n].ra_at = cfa - 8;
        w[n].flags = r->kind == OM_CFI_RBP ? W_RBP_CFA : 0;
        if (r->rbp_off) {
            uintptr_t a = cfa + (uintptr_t)(intptr_t)r->rbp_off;
            if (om__unlikely(!on_stack(a, lo, hi))) return gave_up(c);
            w[n].bp_at = a;
            bp = *(const uintptr_t *)a;
        }
        ip = *(const uintptr_t *)(cfa - 8);
        sp = cfa;
        n++;
    }
    w[n].flags = ip ? W_BP_USED : 0; /* a walk may go on from where this one stopped */
    mark_bp_used(w, n, w[n].flags);
    c->scratch = c->last; /* the record is this walk */
    c->last = w;
    c->nlast = n;
    c->frames += (size_t)n;
    *depth = d;
    return n;
}

/* The walk's state, made on first use. */
static om__cfi *cfi_of(om_heap *h, om__tracestate *t)
{
    if (!t->cfi && (t->cfi = om__sys_calloc(h, 1, sizeof *t->cfi)) != NULL) {
        t->cfi->last = t->cfi->buf[0];
        t->cfi->scratch = t->cfi->buf[1];
    }
    return t->cfi;
}

int om__cfi_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth)
{
    om__cfi *c = t->cfi;
    if (om__unlikely(!c) && (!t->nranges || !(c = cfi_of(h, t)))) return -1;
    uintptr_t *fp = __builtin_frame_address(0);
    if (om__unlikely((uintptr_t)fp - t->stack_lo >= t->stack_hi - t->stack_lo))
        om__trace_stack_bounds(t);
    uintptr_t lo = t->stack_lo, hi = t->stack_hi;
    for (;;) { /* objmem's frames, by their chain */
        if (!on_stack((uintptr_t)fp, lo, hi - 8)) return gave_up(c);
        if (!om__trace_in_objmem(t, fp[1])) break;
        uintptr_t *next = (uintptr_t *)fp[0];
        if (next <= fp) return gave_up(c);
        fp = next;
    }
    c->walks++;
    if (max > OM_TRACE_MAX_FRAMES) max = OM_TRACE_MAX_FRAMES;
    return walk(h, c, out, max, depth, lo, hi, fp[1], (uintptr_t)(fp + 2), fp[0]);
}

int om__cfi_test_rule(om_heap *h, om__tracestate *t, uintptr_t ip, int kind, int cfa_off,
                      int rbp_off)
{
    om__cfi *c = cfi_of(h, t);
    if (!c || !ip || ((c->n + 1) * 2 > c->mask + 1 && grow(h, c) < 0)) return -1;
    size_t i = slot_of(c, ip);
    while (c->rules[i].ip && c->rules[i].ip != ip) i = (i + 1) & c->mask;
    if (c->rules[i].ip) return -1; /* invariant 1: never changed */
    c->n++;
    c->rules[i] = (rule){ip, cfa_off, (int16_t)rbp_off, (uint8_t)kind, 0};
    return 0;
}

int om__cfi_test_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth,
                      const uintptr_t st[5])
{
    om__cfi *c = cfi_of(h, t);
    if (!c) return -1;
    c->walks++;
    if (max > OM_TRACE_MAX_FRAMES) max = OM_TRACE_MAX_FRAMES;
    return walk(h, c, out, max, depth, st[3], st[4], st[0], st[1], st[2]);
}

void om__cfi_stats(const om__tracestate *t, size_t *rules, size_t *walks, size_t *gave_up)
{
    const om__cfi *c = t->cfi;
    *rules = c ? c->n : 0;
    *walks = c ? c->walks : 0;
    *gave_up = c ? c->gave_up : 0;
}

size_t om__cfi_bytes(const om__tracestate *t)
{
    const om__cfi *c = t->cfi;
    return c ? sizeof *c + (c->rules ? (c->mask + 1) * sizeof *c->rules : 0) : 0;
}

void om__cfi_free(om_heap *h, om__tracestate *t)
{
    om__cfi *c = t->cfi;
    if (!c) return;
    if (c->rules) om__sys_free(h, c->rules, (c->mask + 1) * sizeof *c->rules);
    if (c->dwfl) dwfl_end(c->dwfl);
    om__sys_free(h, c, sizeof *c);
    t->cfi = NULL;
}

#else /* no libdw or not x86-64: libunwind or the chain (frames.c) */

int om__cfi_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth)
{
    (void)h, (void)t, (void)out, (void)max, (void)depth;
    return -1;
}

int om__cfi_test_rule(om_heap *h, om__tracestate *t, uintptr_t ip, int kind, int cfa_off,
                      int rbp_off)
{
    (void)h, (void)t, (void)ip, (void)kind, (void)cfa_off, (void)rbp_off;
    return -1;
}

int om__cfi_test_walk(om_heap *h, om__tracestate *t, uintptr_t *out, int max, uint32_t *depth,
                      const uintptr_t st[5])
{
    (void)h, (void)t, (void)out, (void)max, (void)depth, (void)st;
    return -1;
}

void om__cfi_stats(const om__tracestate *t, size_t *rules, size_t *walks, size_t *gave_up)
{
    (void)t;
    *rules = *walks = *gave_up = 0;
}

size_t om__cfi_bytes(const om__tracestate *t)
{
    (void)t;
    return 0;
}

void om__cfi_free(om_heap *h, om__tracestate *t)
{
    (void)h, (void)t;
}

#endif
