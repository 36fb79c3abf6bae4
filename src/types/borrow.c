/*
 * borrow.c - the borrowed accessors (*_borrow): the item a container holds,
 * returned without a new reference. Each is its new-reference twin
 * followed by dropping the reference it added, which never frees the item
 * (the container still holds one). Design note: docs/types.md
 * ("Borrowed accessors").
 */
#include "types_impl.h"

/* Drop the reference a getter added; the container keeps the item alive. */
static om_object *unown(om_object *o)
{
    if (o) om_decref(o);
    return o;
}

om_object *om_tuple_get_borrow(om_object *t, ptrdiff_t i)
{
    return unown(om_tuple_get(t, i));
}

om_object *om_list_get_borrow(om_object *l, ptrdiff_t i)
{
    return unown(om_list_get(l, i));
}

om_object *om_dict_get_borrow(om_object *d, om_object *key)
{
    return unown(om_dict_get(d, key));
}

int om_dict_next_borrow(om_object *d, om_dict_iter *it, om_object **key, om_object **value)
{
    om_object *k = NULL, *v = NULL;
    int rc = om_dict_next(d, it, key ? &k : NULL, value ? &v : NULL);
    if (rc == 1) {
        if (key) *key = unown(k);
        if (value) *value = unown(v);
    }
    return rc;
}
