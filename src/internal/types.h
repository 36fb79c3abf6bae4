/*
 * types.h (internal) - the built-in types' objects and per-heap state:
 * singletons, small-int cache, free lists, intern table.
 * Design note: docs/types.md.
 */
#ifndef OM_INTERNAL_TYPES_H
#define OM_INTERNAL_TYPES_H

#include "om.h"

/* ------------------------------------------------------------- objects */

typedef struct om__int { /* also bool */
    om_object ob;
    int64_t value;
} om__int;

typedef struct om__float {
    om_object ob;
    double value;
} om__float;

typedef struct om__str {
    om_object ob;
    size_t len;       /* bytes, without the terminating NUL            */
    size_t cplen;     /* code points                                   */
    uint64_t hash;    /* valid when hashed                             */
    uint8_t hashed;   /* hash computed                                 */
    uint8_t interned; /* in the intern table (or a cached singleton)   */
    char data[];      /* len bytes + NUL                               */
} om__str;

typedef struct om__tuple {
    om_var_object ob; /* ob.size = number of items                     */
    om_object *items[];
} om__tuple;

typedef struct om__list {
    om_object ob;
    size_t len;        /* items in use                                  */
    size_t alloc;      /* slots in items                                */
    om_object **items; /* om_malloc block, or NULL when alloc == 0      */
} om__list;

typedef struct om__dentry {
    uint64_t hash;
    om_object *key; /* NULL: a deleted entry                          */
    om_object *value;
} om__dentry;

/* The compact dict (CPython 3.6+): `table` is one om_malloc block holding
 * an index array of 2^log2 uint32 slots (a tag and an entry number + 1; 0
 * empty, see dict.c) followed by `usable` = 2/3 of that many dense entries.
 * Invariants:
 *  1. used <= nentries <= usable; entries past nentries are unused.
 *  2. every live entry is reachable from exactly one index slot by the
 *     probe sequence of its hash; deleted entries have key == NULL.
 *  3. version changes whenever a key is added or removed or the table is
 *     rebuilt (om_dict_next's mutation check).
 *  4. table == NULL iff log2 == 0 (no insertion yet, or cleared). */
typedef struct om__dict {
    om_object ob;
    uint32_t log2;    /* index slots = 1 << log2 (0: no table)         */
    uint32_t version; /* key-set version                               */
    size_t used;      /* live items                                    */
    size_t nentries;  /* entries ever filled in this table              */
    size_t usable;    /* entry capacity                                */
    void *table;      /* index array + entries (om_malloc)             */
} om__dict;

static inline uint32_t *om__dict_index(const om__dict *d)
{
    return (uint32_t *)d->table;
}
static inline om__dentry *om__dict_entries(const om__dict *d)
{
    return (om__dentry *)((char *)d->table + ((size_t)4 << d->log2));
}

/* A free-list object: the header (type om__freelist_type, count 1, so the
 * heap walk and checker see a valid, untracked object) and the link. */
typedef struct om__flnode {
    om_object ob;
    struct om__flnode *next;
} om__flnode;

typedef struct om__freelist {
    om__flnode *head;
    uint32_t n;    /* objects on the list                            */
    uint32_t max;  /* bound                                          */
    size_t hits;   /* creations served by the list                   */
    size_t misses; /* creations that went to the allocator           */
} om__freelist;

/* ---------------------------------------------------------- heap state */

enum {
    OM_SMALLINT_MIN = -5,
    OM_SMALLINT_MAX = 256,
    OM_NSMALLINTS = OM_SMALLINT_MAX - OM_SMALLINT_MIN + 1,
    OM_FLOAT_FL_MAX = 100,  /* CPython's PyFloat_MAXFREELIST        */
    OM_TUPLE_FL_LENS = 20,  /* lengths 1..20 (CPython: PyTuple_MAXSAVESIZE) */
    OM_TUPLE_FL_MAX = 2000, /* per length (CPython: PyTuple_MAXFREELIST) */
    OM_LIST_FL_MAX = 80,    /* CPython's PyList_MAXFREELIST         */
    OM_DICT_FL_MAX = 80,    /* CPython's PyDict_MAXFREELIST         */
};

/* The intern table: open addressing, linear probing, backward-shift
 * deletion; holds borrowed pointers (interned strings are mortal).
 * Invariants: n < cap * 3/4; every entry is an interned live str whose
 * `interned` flag is 1 and that is reachable from its home slot without
 * crossing an empty slot. */
typedef struct om__intern {
    om_object **slots; /* cap pointers (om__sys_malloc), NULL = empty   */
    size_t cap;        /* power of two, or 0                            */
    size_t n;          /* strings in the table                          */
} om__intern;

typedef struct om__typestate {
    om_object *none, *true_, *false_, *empty_tuple, *empty_str;
    om_object *small_ints[OM_NSMALLINTS];
    om_object *chars[128]; /* one-character ASCII strings              */
    om__freelist floats;
    om__freelist tuples[OM_TUPLE_FL_LENS + 1]; /* index = length         */
    om__freelist lists;
    om__freelist dicts;
    om__intern intern;
    uint64_t sip_k0, sip_k1; /* string hash key                          */
    uint64_t dict_probes;    /* index slots inspected by dict lookups    */
    size_t cached_objects;   /* singletons + small ints + cached strs     */
    int ready;               /* init finished                            */
    int depth;               /* nesting of om_hash / om_equal on containers */
} om__typestate;

int om__types_init(om_heap *h);
void om__types_fini(om_heap *h);
int om__types_check(om_heap *h, FILE *out);
void om__types_print_stats(om_heap *h, FILE *out);
/* Add what the types layer holds itself (cached objects, free lists) to
 * st->heap_objects / heap_raw_blocks. */
void om__types_fill_stats(om_heap *h, om_heap_stats *st);

/* ------------------------------------------ shared by the files of src/types */

extern const om_type om__freelist_type;

/* Park o (count already zero, untracked) on fl, or free its memory when the
 * list is full or the heap has hooks (debug, tracing). */
void om__freelist_put(om_heap *h, om__freelist *fl, om_object *o);
uint64_t om__siphash13(uint64_t k0, uint64_t k1, const void *src, size_t len);
/* Python's hash of an int and of a double (as uint64; -1 maps to -2). */
uint64_t om__hash_int(int64_t v);
uint64_t om__hash_double(double v);
uint64_t om__str_hash(om_object *s);
/* 1 when the two strs hold the same bytes. */
int om__str_eq(const om_object *a, const om_object *b);

void om__intern_remove(om_heap *h, om_object *s);
void om__intern_fini(om_heap *h);
int om__intern_check(om_heap *h, FILE *out);

/* Raw blocks the dicts' tables hold are the users', so nothing here. */
uint64_t om__dict_probe_count(om_heap *h);
/* Check one dict's invariants (om_heap_check). */
int om__dict_check(om_object *d, FILE *out);

#endif
