/*
 * str.c - immutable UTF-8 strings: validated at creation, lengths in bytes
 * and code points, the hash computed once (keyed SipHash-1-3), and the
 * empty and one-character ASCII strings cached per heap.
 * Design note: docs/types.md ("Strings").
 */
#include <stddef.h>

#include "types_impl.h"

#define STR_HDR offsetof(om__str, data)

static void str_dealloc(om_object *o)
{
    if (((om__str *)o)->interned) om__intern_remove(om_heap_of(o), o);
}

static size_t str_extra(const om_object *o)
{
    return ((const om__str *)o)->len + 1;
}

static int str_repr(om_object *o, char *buf, size_t n)
{
    const om__str *s = (const om__str *)o;
    return snprintf(buf, n, "'%.*s'", (int)(s->len > 60 ? 60 : s->len), s->data);
}

const om_type om_str_type = {
    .name = "str",
    .basic_size = STR_HDR,
    .flags = OM_TYPE__BUILTIN | OM_TYPE__LEAF,
    .dealloc = str_dealloc,
    .sizeof_extra = str_extra,
    .repr = str_repr,
};

/* ------------------------------------------------------------- UTF-8 */

/* The number of code points in s[0..len), or -1 when s is not valid UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static ptrdiff_t utf8_count(const unsigned char *s, size_t len)
{
    size_t i = 0, n = 0;
    while (i < len) {
        /* ASCII runs, 8 bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
            n += 8;
        }
        if (i >= len) break;
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            k = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return -1;
        if (i + k >= len) return -1; /* truncated sequence */
        for (size_t j = 1; j <= k; j++) {
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF)) return -1;
        }
        i += k + 1;
        n++;
    }
    return (ptrdiff_t)n;
}

/* Short strings (2..16 bytes), the common keys and names: ASCII checked
 * and copied a word at a time with overlapping fixed-size loads and stores
 * (no byte loop, no memcpy call). 1 when bytes[0..len) is ASCII. */
static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
static inline uint32_t load4(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline int short_is_ascii(const char *b, size_t len)
{
    if (len >= 8) return !((load8(b) | load8(b + len - 8)) & 0x8080808080808080ull);
    if (len >= 4) return !((load4(b) | load4(b + len - 4)) & 0x80808080u);
    return !(((unsigned char)b[0] | (unsigned char)b[1] | (unsigned char)b[len - 1]) & 0x80);
}

static inline void short_copy(char *d, const char *b, size_t len)
{
    if (len >= 8) {
        uint64_t x = load8(b), y = load8(b + len - 8);
        memcpy(d, &x, 8);
        memcpy(d + len - 8, &y, 8);
    } else if (len >= 4) {
        uint32_t x = load4(b), y = load4(b + len - 4);
        memcpy(d, &x, 4);
        memcpy(d + len - 4, &y, 4);
    } else {
        d[0] = b[0];
        d[1] = b[1];
        d[len - 1] = b[len - 1];
    }
}

/* -------------------------------------------------------------- API */

om_object *om_str_new(om_heap *h, const char *bytes, size_t len)
{
    if (len <= 1) {
        if (len == 0) return h->types.empty_str;
        if (!bytes) return om__err_null(h, OM_EINVAL, "om_str_new: bytes is NULL");
        if ((unsigned char)bytes[0] < 128) return h->types.chars[(unsigned char)bytes[0]];
    }
    if (!bytes) return om__err_null(h, OM_EINVAL, "om_str_new: bytes is NULL");
    if (len <= 16 && short_is_ascii(bytes, len)) { /* len >= 2 here */
        om__str *s = (om__str *)om__types_alloc(h, &om_str_type, STR_HDR + len + 1);
        if (!s) return NULL;
        s->len = s->cplen = len;
        s->hashed = 0;
        s->interned = 0;
        short_copy(s->data, bytes, len);
        s->data[len] = '\0';
        return &s->ob;
    }
    if (len > SIZE_MAX - STR_HDR - 1)
        return om__err_null(h, OM_ENOMEM, "om_str_new: %zu bytes", len);
    ptrdiff_t cp = utf8_count((const unsigned char *)bytes, len);
    if (cp < 0) return om__err_null(h, OM_EUTF8, "om_str_new: %zu bytes are not valid UTF-8", len);
    om__str *s = (om__str *)om__types_alloc(h, &om_str_type, STR_HDR + len + 1);
    if (!s) return NULL;
    s->len = len;
    s->cplen = (size_t)cp;
    s->hashed = 0;
    s->interned = 0;
    memcpy(s->data, bytes, len);
    s->data[len] = '\0';
    return &s->ob;
}

om_object *om_str_from_cstr(om_heap *h, const char *s)
{
    if (!s) return om__err_null(h, OM_EINVAL, "om_str_from_cstr: NULL");
    return om_str_new(h, s, strlen(s));
}

const char *om_str_data(const om_object *s)
{
    return s->type == &om_str_type ? ((const om__str *)s)->data : NULL;
}

size_t om_str_len(const om_object *s)
{
    return s->type == &om_str_type ? ((const om__str *)s)->len : 0;
}

size_t om_str_cplen(const om_object *s)
{
    return s->type == &om_str_type ? ((const om__str *)s)->cplen : 0;
}

int om_str_is_interned(const om_object *s)
{
    return s->type == &om_str_type && ((const om__str *)s)->interned;
}

uint64_t om__str_hash(om_object *o)
{
    om__str *s = (om__str *)o;
    if (om__likely(s->hashed)) return s->hash;
    om_heap *h = om__heap_of(o);
    uint64_t x = om__siphash13(h->types.sip_k0, h->types.sip_k1, s->data, s->len);
    if (x == (uint64_t)-1) x = (uint64_t)-2;
    s->hash = x;
    s->hashed = 1;
    return x;
}

int om__str_eq(const om_object *a, const om_object *b)
{
    const om__str *x = (const om__str *)a, *y = (const om__str *)b;
    if (x->len != y->len) return 0;
    if (x->hashed && y->hashed && x->hash != y->hash) return 0;
    return memcmp(x->data, y->data, x->len) == 0;
}
