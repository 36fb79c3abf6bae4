/*
 * test_repr.c - om_repr: the built-in types' texts, Python's default for a
 * type without a repr slot, snprintf rules (truncation, n 0, the length of
 * the whole text), a failing slot, NULL; and om_repr where objmem prints
 * objects: the collector's debug output and the leak report.
 */
#include "om_test.h"

typedef struct node {
    OM_OBJECT_HEAD
    om_object *next;
} node;

static int node_traverse(om_object *o, om_visit_fn visit, void *arg)
{
    OM_VISIT(((node *)o)->next, visit, arg);
    return 0;
}
static void node_clear(om_object *o)
{
    om_clear_ref(&((node *)o)->next);
}
static const om_type node_type = {
    .name = "node",
    .basic_size = sizeof(node),
    .flags = OM_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = node_clear,
};

static int failing_repr(om_object *o, char *buf, size_t n)
{
    (void)o, (void)buf, (void)n;
    return -1;
}
static const om_type failing_type = {
    .name = "failing", .basic_size = sizeof(node), .repr = failing_repr};

static void expect_repr(om_object *o, const char *want)
{
    char buf[128];
    size_t len = om_repr(o, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
}

static void test_repr_builtin_types(void **state)
{
    om_heap *h = OM_HEAP(state);
    expect_repr(om_none(h), "None");
    expect_repr(om_true(h), "True");
    expect_repr(om_false(h), "False");
    om_object *i = om_int_new(h, -123456789), *f = om_float_new(h, 0.5);
    om_object *s = om_str_from_cstr(h, "hello");
    expect_repr(i, "-123456789");
    expect_repr(f, "0.5");
    expect_repr(s, "'hello'");
    om_object *l = om_list_new(h, 0), *t = om_tuple_pack(h, 2, i, s), *d = om_dict_new(h);
    assert_int_equal(om_list_append(l, i), 0);
    assert_int_equal(om_dict_set(d, s, i), 0);
    expect_repr(l, "[list of 1]");
    expect_repr(t, "(tuple of 2)");
    expect_repr(d, "{dict of 1}");
    om_decref(i), om_decref(f), om_decref(s), om_decref(l), om_decref(t), om_decref(d);
}

static void test_repr_default_is_pythons(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *n = om_new(h, &node_type), *bad = om_new(h, &failing_type);
    char want[64], buf[64];
    snprintf(want, sizeof want, "<node object at %p>", (void *)n);
    expect_repr(n, want);
    /* a slot that fails still gives a text: the default */
    snprintf(want, sizeof want, "<failing object at %p>", (void *)bad);
    expect_repr(bad, want);
    expect_repr(NULL, "NULL");
    (void)buf;
    om_decref(n), om_decref(bad);
}

static void test_repr_follows_snprintf_rules(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *s = om_str_from_cstr(h, "a longer string than the buffer");
    char buf[8];
    memset(buf, 'x', sizeof buf);
    size_t len = om_repr(s, buf, sizeof buf);
    assert_int_equal(len, strlen("'a longer string than the buffer'"));
    assert_string_equal(buf, "'a long"); /* 7 bytes and the NUL */
    assert_int_equal(om_repr(s, NULL, 0), len);
    char one[1] = {'x'};
    assert_int_equal(om_repr(s, one, 1), len);
    assert_int_equal(one[0], '\0');
    /* the default text truncates the same way */
    om_object *n = om_new(h, &node_type);
    char big[64];
    size_t full = om_repr(n, big, sizeof big);
    assert_int_equal(om_repr(n, buf, sizeof buf), full);
    assert_string_equal(buf, "<node o");
    om_decref(s), om_decref(n);
}

/* The collector's DEBUG_COLLECTABLE lines show objects by om_repr. */
static void test_repr_in_gc_debug_output(void **state)
{
    om_heap *h = OM_HEAP(state);
    FILE *f = tmpfile();
    assert_non_null(f);
    om_gc_set_debug_file(h, f);
    om_gc_set_debug(h, OM_GC_DEBUG_COLLECTABLE);
    node *a = (node *)om_new(h, &node_type);
    om_object *l = om_list_new(h, 0);
    assert_int_equal(om_list_append(l, l), 0); /* a list in a cycle of its own */
    a->next = om_incref(a);
    char want_node[64], want_list[80];
    snprintf(want_node, sizeof want_node, "gc: collectable <node object at %p>\n", (void *)a);
    snprintf(want_list, sizeof want_list, "gc: collectable [list of 1] (list at %p)\n", (void *)l);
    om_decref(a);
    om_decref(l);
    assert_int_equal(om_gc_collect(h, -1), 2);
    om_gc_set_debug(h, 0);
    om_gc_set_debug_file(h, NULL);
    char buf[1024] = {0};
    rewind(f);
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, want_node));
    assert_non_null(strstr(buf, want_list));
}

/* The leak report gives one example of each type, by om_repr, and says
 * "1 object" (not "1 objects"). */
static void test_repr_in_leak_report(void **state)
{
    (void)state;
    om_config cfg;
    om_config_init(&cfg);
    cfg.report_leaks = 1;
    char *buf = NULL;
    size_t len = 0;
    cfg.report_file = open_memstream(&buf, &len);
    assert_non_null(cfg.report_file);
    om_heap *h = om_heap_new(&cfg);
    assert_non_null(h);
    assert_non_null(om_str_from_cstr(h, "a leaked string"));
    assert_non_null(om_str_from_cstr(h, "another"));
    om_object *n = om_new(h, &node_type);
    char want[64];
    snprintf(want, sizeof want, "e.g. <node object at %p>", (void *)n);
    om_heap_destroy(h);
    fclose(cfg.report_file);
    assert_non_null(strstr(buf, "objmem: leak report: 3 objects"));
    assert_non_null(strstr(buf, "e.g. 'a leaked string'"));
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "         1 object "));
    assert_non_null(strstr(buf, "         2 objects"));
    assert_null(strstr(buf, " 1 objects"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_repr_builtin_types, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_repr_default_is_pythons, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_repr_follows_snprintf_rules, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_repr_in_gc_debug_output, om_test_setup_nostress,
                                        om_test_teardown),
        cmocka_unit_test(test_repr_in_leak_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
