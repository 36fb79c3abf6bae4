/*
 * test_growth.c - growth between two points (src/gc/growth.c): objects per
 * type, objgraph's show_growth between two counts, the objects new since a
 * count, the per-type table past its growths (thousands of types), and no
 * change to the collector's state.
 */
#include "gc_test_types.h"

static const om_gc_type_count *row(const om_gc_counts *c, const om_type *t)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].type == t) return &c->rows[i];
    return NULL;
}

static void test_growth_counts_and_diff(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *keep = om_list_new(h, 0);
    om_gc_counts *before = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS);
    assert_non_null(before);
    assert_int_equal(row(before, &om_list_type)->count, 1);
    assert_null(row(before, &node_type));
    for (int i = 0; i < 1000; i++) {
        node *n = mk(h, &node_type);
        om_object *s = om_str_from_cstr(h, "leaked string value");
        set_slot(n, 0, s);
        om_decref(s);
        assert_int_equal(om_list_append(keep, OM_OBJ(n)), 0);
        om_decref(n);
    }
    om_object *l2 = om_list_new(h, 0);
    om_gc_counts *after = om_gc_type_counts(h, 0);
    assert_null(after->objs);
    assert_int_equal(row(after, &node_type)->count, 1000);
    assert_int_equal(row(after, &node_type)->bytes, 1000 * sizeof(node));
    assert_int_equal(row(after, &om_list_type)->count, 2);
    for (size_t i = 1; i < after->n; i++)
        assert_true(after->rows[i - 1].count >= after->rows[i].count);
    om_gc_counts *g = om_gc_type_growth(before, after);
    assert_non_null(g);
    assert_int_equal(g->n, 3); /* node and str +1000, list +1 */
    assert_int_equal(g->rows[2].type, &om_list_type);
    assert_int_equal(g->rows[2].delta, 1);
    assert_int_equal(row(g, &node_type)->delta, 1000);
    assert_int_equal(row(g, &om_str_type)->delta, 1000);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    om_gc_counts_print(g, 2, f);
    fclose(f);
    assert_non_null(strstr(buf, "node"));
    assert_non_null(strstr(buf, "+1000"));
    assert_null(strstr(buf, "list"));
    /* the newest nodes: all 1000, youngest generation first */
    size_t n;
    om_object **fresh = om_gc_get_new_objects(h, before, &node_type, 0, &n);
    assert_int_equal(n, 1000);
    om_gc_list_free(h, fresh, n);
    fresh = om_gc_get_new_objects(h, before, NULL, 10, &n);
    assert_int_equal(n, 10);
    om_gc_list_free(h, fresh, n);
    assert_null(om_gc_get_new_objects(h, after, NULL, 0, &n)); /* no addresses */
    assert_int_equal(om_errcode(h), OM_EINVAL);
    om_gc_counts_free(g);
    om_gc_counts_free(after);
    om_gc_counts_free(before);
    om_gc_counts_free(NULL);
    om_decref(keep);
    om_decref(l2);
}

static void test_growth_new_objects_youngest_first(void **state)
{
    om_heap *h = OM_HEAP(state);
    if (om_test_gc_stress()) skip();
    om_gc_counts *before = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS | OM_GC_COUNTS_TRACKED);
    node *old = mk(h, &node_type);
    om_gc_collect(h, -1); /* old: generation 2 */
    node *young = mk(h, &node_type);
    size_t n;
    om_object **fresh = om_gc_get_new_objects(h, before, &node_type, 0, &n);
    assert_int_equal(n, 2);
    assert_ptr_equal(fresh[0], young);
    assert_ptr_equal(fresh[1], old);
    om_gc_list_free(h, fresh, n);
    om_gc_counts_free(before);
    om_decref(old), om_decref(young);
}

/* The type table past its first growths. */
static void test_growth_thousands_of_types(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { NT = 3000 };
    om_type *types = calloc(NT, sizeof *types);
    om_object **objs = calloc(2 * NT, sizeof *objs);
    assert_non_null(types);
    assert_non_null(objs);
    for (int i = 0; i < NT; i++) {
        types[i] = plain_type;
        objs[2 * i] = om_new(h, &types[i]);
        if (i % 2) objs[2 * i + 1] = om_new(h, &types[i]); /* the odd types have two */
    }
    om_gc_counts *c = om_gc_type_counts(h, OM_GC_COUNTS_OBJECTS);
    assert_non_null(c);
    for (int i = 0; i < NT; i++) assert_int_equal(row(c, &types[i])->count, i % 2 ? 2 : 1);
    for (size_t i = 1; i < c->n; i++) assert_true(c->rows[i - 1].count >= c->rows[i].count);
    assert_int_equal(c->nobjs, c->total);
    for (size_t i = 1; i < c->nobjs; i++)
        assert_true((uintptr_t)c->objs[i - 1] < (uintptr_t)c->objs[i]);
    om_gc_counts_free(c);
    for (int i = 0; i < 2 * NT; i++) om_xdecref(objs[i]);
    free(objs);
    free(types);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_growth_counts_and_diff, gc_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_growth_new_objects_youngest_first, gc_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_growth_thousands_of_types, gc_setup, om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
