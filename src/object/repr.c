/*
 * repr.c - om_repr: an object's short text, from its type's repr slot or
 * Python's default "<TYPE object at ADDRESS>". The collector's debug
 * output and the leak report print objects with it. Design note:
 * docs/object.md ("repr").
 */
#include <stdio.h>

#include "internal/heap.h"

/* Python's object.__repr__: "<node object at 0x7f...>". */
static size_t default_repr(const om_object *o, char *buf, size_t n)
{
    const char *name = o->type->name ? o->type->name : "?";
    int len = snprintf(buf, n, "<%s object at %p>", name, (const void *)o);
    return len < 0 ? 0 : (size_t)len;
}

size_t om_repr(om_object *o, char *buf, size_t n)
{
    if (n) buf[0] = '\0';
    if (!o) {
        int len = snprintf(buf, n, "NULL");
        return len < 0 ? 0 : (size_t)len;
    }
    if (!o->type->repr) return default_repr(o, buf, n);
    int len = o->type->repr(o, buf, n);
    if (len < 0) return default_repr(o, buf, n); /* the slot failed: still say something */
    if (n) buf[(size_t)len < n ? (size_t)len : n - 1] = '\0';
    return (size_t)len;
}
