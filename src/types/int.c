/*
 * int.c - int (boxed int64, small-int cache -5..256) and float (bounded
 * free list of 100, as CPython's). Design note: docs/types.md.
 */
#include "types_impl.h"

static int int_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "%lld", (long long)((om__int *)o)->value);
}

static int float_repr(om_object *o, char *buf, size_t n)
{
    return snprintf(buf, n, "%.17g", ((om__float *)o)->value);
}

/* Floats park on the free list instead of going back to their pool. */
static void float_dealloc(om_object *o)
{
    om_heap *h = om__heap_of(o);
    om__freelist_put(h, &h->types.floats, o);
}

const om_type om_int_type = {
    .name = "int",
    .basic_size = sizeof(om__int),
    .flags = OM_TYPE__BUILTIN,
    .repr = int_repr,
};

const om_type om_float_type = {
    .name = "float",
    .basic_size = sizeof(om__float),
    .flags = OM_TYPE__BUILTIN | OM_TYPE__OWNS_MEMORY | OM_TYPE__LEAF,
    .dealloc = float_dealloc,
    .repr = float_repr,
};

om_object *om_int_new(om_heap *h, int64_t v)
{
    uint64_t k = (uint64_t)v - (uint64_t)OM_SMALLINT_MIN;
    if (k < OM_NSMALLINTS) return h->types.small_ints[k]; /* immortal: no incref needed */
    om__int *o = (om__int *)om__types_alloc(h, &om_int_type, sizeof(om__int));
    if (om__unlikely(!o)) return NULL;
    o->value = v;
    return &o->ob;
}

int64_t om_int_value(const om_object *o)
{
    if (om__likely(o->type == &om_int_type || o->type == &om_bool_type))
        return ((const om__int *)o)->value;
    om__err(om_heap_of(o), OM_ETYPE, "om_int_value: %s is not an int", o->type->name);
    return 0;
}

om_object *om_float_new(om_heap *h, double v)
{
    om_object *o = om__freelist_take(h, &h->types.floats, &om_float_type);
    if (!o && !(o = om__types_alloc(h, &om_float_type, sizeof(om__float)))) return NULL;
    ((om__float *)o)->value = v;
    return o;
}

double om_float_value(const om_object *o)
{
    if (om__likely(o->type == &om_float_type)) return ((const om__float *)o)->value;
    if (o->type == &om_int_type || o->type == &om_bool_type)
        return (double)((const om__int *)o)->value;
    om__err(om_heap_of(o), OM_ETYPE, "om_float_value: %s is not a number", o->type->name);
    return 0.0;
}
