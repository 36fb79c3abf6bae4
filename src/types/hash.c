/*
 * hash.c - om_hash and om_equal for the built-in types, Python's numeric
 * hash (equal numbers hash alike across int, bool and float), the tuple
 * hash of CPython 3.8+ (xxHash-based) and SipHash-1-3 for strings, both
 * keyed per heap so that colliding keys cannot be crafted from outside.
 * Design note: docs/types.md ("Hashing").
 */
#include <math.h>

#include "types_impl.h"

/* -------------------------------------------------------- SipHash-1-3 */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

/* SipHash-1-3 (Aumasson & Bernstein; the variant CPython uses since 3.11)
 * of len bytes under the key (k0, k1). */
uint64_t om__siphash13(uint64_t k0, uint64_t k1, const void *src, size_t len)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    const uint8_t *in = src;
    uint64_t b = (uint64_t)len << 56, m;
    for (; len >= 8; len -= 8, in += 8) {
        memcpy(&m, in, 8); /* little-endian hosts (the supported ones) */
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t t = 0;
    switch (len) {
    case 7:
        t |= (uint64_t)in[6] << 48; /* fall through */
    case 6:
        t |= (uint64_t)in[5] << 40; /* fall through */
    case 5:
        t |= (uint64_t)in[4] << 32; /* fall through */
    case 4:
        t |= (uint64_t)in[3] << 24; /* fall through */
    case 3:
        t |= (uint64_t)in[2] << 16; /* fall through */
    case 2:
        t |= (uint64_t)in[1] << 8; /* fall through */
    case 1:
        t |= (uint64_t)in[0]; /* fall through */
    default:
        break;
    }
    b |= t;
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return (v0 ^ v1) ^ (v2 ^ v3);
}

/* ------------------------------------------------------ numeric hash */

#define HASH_BITS    61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)
#define HASH_INF     314159

static uint64_t fix_minus_one(int64_t x)
{
    return (uint64_t)(x == -1 ? -2 : x);
}

/* Python's hash(int): the value modulo 2^61 - 1, with its sign. */
uint64_t om__hash_int(int64_t v)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t x = (int64_t)(a % HASH_MODULUS);
    return fix_minus_one(v < 0 ? -x : x);
}

/* Python's _Py_HashDouble: the hash of the rational value, so that an
 * integral float hashes as the equal int. NaN hashes to 0 (3.9 rule). */
uint64_t om__hash_double(double v)
{
    if (!isfinite(v)) return isinf(v) ? (uint64_t)(v > 0 ? HASH_INF : -HASH_INF) : 0;
    int e;
    double m = frexp(v, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & HASH_MODULUS) | x >> (HASH_BITS - 28);
        m *= 268435456.0; /* 2**28 */
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MODULUS) x -= HASH_MODULUS;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MODULUS) | x >> (HASH_BITS - e);
    return fix_minus_one((int64_t)x * sign);
}

/* ----------------------------------------------------------- om_hash */

#define XXPRIME_1   11400714785074694791ull
#define XXPRIME_2   14029467366897019727ull
#define XXPRIME_5   2870177450012600261ull
#define XXROTATE(x) (((x) << 31) | ((x) >> 33))

/* CPython 3.8+ tuplehash (bpo-34751), keyed per heap: the accumulator
 * starts from, and every lane is xored with, words of the heap's secret.
 * Unkeyed, ints make the lanes (hash(n) == n), so colliding tuples are one
 * modular inverse away ((a, b) and (a', b') with acc1(a) + b P2 equal:
 * 40k of them took 99 s to insert, issue 12); keyed, the attacker no
 * longer knows acc1. Equal tuples of one heap still hash alike. */
static int hash_tuple(om_heap *h, om_object *o, uint64_t *out)
{
    const om__tuple *t = (const om__tuple *)o;
    uint64_t acc = XXPRIME_5 ^ h->types.sip_k0, kl = h->types.sip_k1 * XXPRIME_1;
    for (size_t i = 0; i < t->ob.size; i++) {
        uint64_t lane;
        if (!t->items[i])
            return om__err(om_heap_of(o), OM_EINVAL, "om_hash: tuple slot %zu is not set", i);
        int rc = om_hash(t->items[i], &lane);
        if (rc < 0) return rc;
        lane ^= kl;
        acc += lane * XXPRIME_2;
        acc = XXROTATE(acc);
        acc *= XXPRIME_1;
    }
    acc += t->ob.size ^ (XXPRIME_5 ^ 3527539ull);
    *out = acc == (uint64_t)-1 ? 1546275796u : acc;
    return 0;
}

static int containers_equal(om_object *a, om_object *b);

/* Hash (b NULL) or compare containers one nesting level deeper: past
 * OM_MAX_NESTING levels a clean error instead of a stack overflow (Python's
 * RecursionError; the limit keeps the recursion within a 256 KiB stack). */
#define OM_MAX_NESTING 500
static int nested(om_object *a, om_object *b, uint64_t *out)
{
    om_heap *h = om_heap_of(a);
    if (h->types.depth >= OM_MAX_NESTING)
        return om__err(h, OM_EINVAL, "%s: containers nested deeper than %d levels",
                       b ? "om_equal" : "om_hash", OM_MAX_NESTING);
    h->types.depth++;
    int rc = b ? containers_equal(a, b) : hash_tuple(h, a, out);
    h->types.depth--;
    return rc;
}

int om_hash(om_object *o, uint64_t *out)
{
    const om_type *t = o->type;
    if (om__likely(t == &om_str_type))
        *out = om__str_hash(o);
    else if (t == &om_int_type || t == &om_bool_type)
        *out = om__hash_int(((om__int *)o)->value);
    else if (t == &om_float_type)
        *out = om__hash_double(((om__float *)o)->value);
    else if (t == &om_tuple_type)
        return nested(o, NULL, out);
    else if (t == &om_none_type)
        *out = 0xFCA86420u; /* CPython 3.12's constant */
    else if (t->hash && t != &om_list_type && t != &om_dict_type)
        return t->hash(o, out);
    else
        return om__err(om_heap_of(o), OM_EUNHASH, "unhashable type: '%s'", t->name);
    return 0;
}

/* ---------------------------------------------------------- om_equal */

static int is_num(const om_type *t)
{
    return t == &om_int_type || t == &om_bool_type || t == &om_float_type;
}

/* An int equals a float only when the float is integral and exactly the
 * int's value (Python compares exactly, with no rounding). */
static int int_eq_float(int64_t i, double f)
{
    if (f != floor(f) || f < -9223372036854775808.0 || f >= 9223372036854775808.0) return 0;
    return (int64_t)f == i;
}

static int num_equal(const om_object *a, const om_object *b)
{
    int fa = a->type == &om_float_type, fb = b->type == &om_float_type;
    if (fa && fb) return ((const om__float *)a)->value == ((const om__float *)b)->value;
    if (fa) return int_eq_float(((const om__int *)b)->value, ((const om__float *)a)->value);
    if (fb) return int_eq_float(((const om__int *)a)->value, ((const om__float *)b)->value);
    return ((const om__int *)a)->value == ((const om__int *)b)->value;
}

static int items_equal(om_object *const *x, om_object *const *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (x[i] == y[i]) continue;
        if (!x[i] || !y[i]) return 0;
        int rc = om_equal(x[i], y[i]);
        if (rc != 1) return rc;
    }
    return 1;
}

/* A user type's eq may change either list: re-read the items each step
 * and hold them during the call (CPython's list_richcompare). */
static int list_equal(const om__list *x, const om__list *y)
{
    if (x->len != y->len) return 0;
    for (size_t i = 0; i < x->len && i < y->len; i++) {
        om_object *a = x->items[i], *b = y->items[i];
        if (a == b) continue;
        om_incref(a);
        om_incref(b);
        int rc = om_equal(a, b);
        om_decref(a);
        om_decref(b);
        if (rc != 1) return rc;
    }
    return x->len == y->len;
}

static int dict_equal(om_object *a, om_object *b)
{
    if (om_dict_len(a) != om_dict_len(b)) return 0;
    om_dict_iter it = OM_DICT_ITER_INIT;
    om_object *k, *v, *w;
    int rc;
    while ((rc = om_dict_next(a, &it, &k, &v)) == 1) {
        int found = om_dict_find(b, k, &w);
        om_decref(k);
        if (found == 1) {
            found = om_equal(v, w);
            om_decref(w);
        }
        om_decref(v);
        if (found != 1) return found;
    }
    return rc == 0 ? 1 : rc;
}

/* Identity implies equality (as in container comparisons: a NaN object
 * equals itself). */
int om_equal(om_object *a, om_object *b)
{
    if (a == b) return 1;
    const om_type *ta = a->type, *tb = b->type;
    if (ta == &om_str_type && tb == &om_str_type) return om__str_eq(a, b);
    if (is_num(ta) && is_num(tb)) return num_equal(a, b);
    if (ta == tb && (ta == &om_tuple_type || ta == &om_list_type || ta == &om_dict_type))
        return nested(a, b, NULL);
    if (ta->eq && !(ta->flags & OM_TYPE__BUILTIN)) return ta->eq(a, b);
    if (tb->eq && !(tb->flags & OM_TYPE__BUILTIN)) return tb->eq(b, a);
    return 0;
}

/* Equality of two containers of the same built-in type (via nested). */
static int containers_equal(om_object *a, om_object *b)
{
    if (a->type == &om_tuple_type) {
        const om__tuple *x = (const om__tuple *)a, *y = (const om__tuple *)b;
        return x->ob.size == y->ob.size ? items_equal(x->items, y->items, x->ob.size) : 0;
    }
    if (a->type == &om_list_type) return list_equal((const om__list *)a, (const om__list *)b);
    return dict_equal(a, b);
}
