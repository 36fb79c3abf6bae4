/*
 * test_fault_alloc.c - allocator and object workloads with the Nth request
 * to the seam failing, for every N until the workload completes: each
 * failure is a clean NULL/error, the heap stays consistent and usable, and
 * destroying it leaks nothing (LeakSanitizer).
 */
#include "om_fault.h"
#include "om_test.h"

/* Churn with realloc across classes and into large blocks; a failed
 * realloc must leave the old block intact. */
static int churn(om_heap *h, void *arg)
{
    (void)arg;
    enum { N = 300 };
    unsigned char *v[N] = {0};
    size_t sz[N] = {0};
    unsigned seed = 7;
    for (int step = 0; step < 3000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) % N;
        size_t want = (seed >> 4) % 4 == 0 ? 600 + (seed >> 12) % 5000 : 1 + (seed >> 12) % 300;
        if (!v[i]) {
            v[i] = om_malloc(h, want);
            if (!v[i]) {
                assert_int_equal(om_errcode(h), OM_ENOMEM);
                continue;
            }
            sz[i] = want;
            memset(v[i], (int)i, want);
        } else if (seed & 1) {
            unsigned char *q = om_realloc(h, v[i], want);
            size_t keep = sz[i] < want ? sz[i] : want;
            if (!q) { /* the old block is intact */
                for (size_t k = 0; k < sz[i]; k++) assert_int_equal(v[i][k], (unsigned char)i);
                continue;
            }
            for (size_t k = 0; k < keep; k++) assert_int_equal(q[k], (unsigned char)i);
            memset(q, (int)i, want);
            v[i] = q;
            sz[i] = want;
        } else {
            om_free(h, v[i]);
            v[i] = NULL;
        }
    }
    for (int i = 0; i < N; i++) om_free(h, v[i]);
    return 0;
}

static void test_fault_alloc_churn_with_realloc(void **state)
{
    (void)state;
    long runs = om_fault_run(churn, NULL, 100000);
    assert_true(runs > 3);
    print_message("churn: survived %ld injection points\n", runs - 1);
}

/* Objects: a chain of nodes, some big; creation may fail at any point. */
typedef struct node {
    OM_OBJECT_HEAD
    om_object *next;
    char pad[2100]; /* over OM_SMALL_MAX (2048): a large block */
} node;

static void node_dealloc(om_object *o)
{
    om_clear_ref(&((node *)o)->next);
}
static const om_type node_type = {
    .name = "node", .basic_size = sizeof(node), .dealloc = node_dealloc};

static int objects(om_heap *h, void *arg)
{
    (void)arg;
    om_object *head = NULL;
    for (int i = 0; i < 2000; i++) {
        node *n = (node *)om_new(h, &node_type);
        if (!n) {
            assert_int_equal(om_errcode(h), OM_ENOMEM);
            continue;
        }
        n->next = head;
        head = OM_OBJ(n);
    }
    om_xdecref(head);
    return 0;
}

static void test_fault_alloc_object_chain(void **state)
{
    (void)state;
    long runs = om_fault_run(objects, NULL, 100000);
    assert_true(runs > 3);
    print_message("objects: survived %ld injection points\n", runs - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_alloc_churn_with_realloc),
        cmocka_unit_test(test_fault_alloc_object_chain),
    };
    return cmocka_run_group_tests_name("fault_alloc", tests, NULL, NULL);
}
