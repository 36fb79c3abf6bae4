/*
 * test_types_gc.c - every built-in container inside a reference cycle is
 * collected by the collector (om_gc_collect), with its items, and the
 * free lists and caches stay consistent afterwards.
 */
#include "om_test.h"

static size_t user_objects(om_heap *h)
{
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    return st.objects - st.heap_objects;
}

static void collect(om_heap *h)
{
    om_gc_collect(h, -1);
    assert_int_equal(om_heap_check(h), 0);
}

static void test_types_gc_list_holding_itself(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    om_list_append(l, l);
    om_list_append_steal(l, om_str_from_cstr(h, "payload"));
    om_list_append_steal(l, om_float_new(h, 1.5));
    om_decref(l);
    assert_true(user_objects(h) > 0);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_dict_holding_itself(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *d = om_dict_new(h), *k = om_str_from_cstr(h, "self");
    om_dict_set(d, k, d);
    om_dict_set_steal(d, om_int_new(h, 1000), om_str_from_cstr(h, "v"));
    om_decref(k);
    om_decref(d);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_tuple_list_cycle(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0);
    om_object *t = om_tuple_pack(h, 3, om_none(h), l, om_true(h));
    assert_true(om_gc_is_tracked(t));
    om_list_append(l, t);
    om_decref(t);
    om_decref(l);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_mixed_ring(void **state)
{
    om_heap *h = OM_HEAP(state);
    enum { N = 1000 };
    om_object *first = om_list_new(h, 0), *prev = first;
    om_incref(first);
    for (int i = 0; i < N; i++) {
        om_object *next;
        if (i % 3 == 0)
            next = om_dict_new(h);
        else
            next = om_list_new(h, 0);
        om_object *num = om_int_new(h, i);
        om_object *box = om_tuple_pack(h, 2, next, num); /* a tuple on the path */
        om_decref(num);
        if (om_is_dict(prev))
            om_dict_set_steal(prev, om_int_new(h, i), box);
        else
            om_list_append_steal(prev, box);
        om_decref(prev);
        prev = next;
    }
    om_list_append(first, first);
    if (om_is_dict(prev))
        om_dict_set(prev, om_none(h), first);
    else
        om_list_append(prev, first);
    om_decref(prev);
    om_decref(first);
    collect(h);
    assert_int_equal(user_objects(h), 0);
    /* the free lists refilled by the collection serve new objects */
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_dict_set(d, l, l); /* unhashable: nothing stored */
    om_list_append(l, d);
    om_dict_set_steal(d, om_str_from_cstr(h, "l"), om_incref(l));
    om_decref(l);
    om_decref(d);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

static void test_types_gc_reachable_containers_survive(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *l = om_list_new(h, 0), *d = om_dict_new(h);
    om_list_append(l, l);
    om_list_append(l, d);
    om_dict_set_steal(d, om_str_from_cstr(h, "k"), om_incref(l));
    collect(h);
    assert_int_equal(om_list_len(l), 2);
    assert_int_equal(om_dict_len(d), 1);
    om_decref(d);
    om_decref(l);
    collect(h);
    assert_int_equal(user_objects(h), 0);
}

/* ------------------------------------------------ random graphs (seeded) */

/* Lists, small tuples and large tuples (blocks over 512 bytes) linked at
 * random, forward and backward in allocation (and address) order, some
 * held from outside: a collection must free exactly what the roots do not
 * reach (the collector reads these containers inline and marks in address
 * order: issue 14). The expected set comes from a search over the edges
 * recorded here. */
enum { RG_N = 3000, RG_LARGE = 80 };

typedef struct rgraph {
    om_object *obj[RG_N];
    uint32_t *adj[RG_N]; /* children, by node index */
    size_t nadj[RG_N], cap[RG_N];
    char is_list[RG_N], root[RG_N], reached[RG_N];
    uint64_t seed;
    size_t list_edges, root_odds; /* the graph's shape: edges, 1 root in odds */
} rgraph;

static uint32_t rg_rand(rgraph *g)
{
    g->seed ^= g->seed << 13;
    g->seed ^= g->seed >> 7;
    g->seed ^= g->seed << 17;
    return (uint32_t)(g->seed >> 16);
}

static void rg_edge(rgraph *g, size_t from, size_t to)
{
    if (g->nadj[from] == g->cap[from]) {
        g->cap[from] = g->cap[from] ? 2 * g->cap[from] : 4;
        g->adj[from] = realloc(g->adj[from], g->cap[from] * sizeof *g->adj[from]);
        assert_non_null(g->adj[from]);
    }
    g->adj[from][g->nadj[from]++] = (uint32_t)to;
}

/* Nodes fall in RG_GROUPS groups (index % RG_GROUPS) and link only within
 * their group; roots are taken from the first half of the groups only, so
 * the other half is garbage, cyclic where lists link back. */
enum { RG_GROUPS = 8 };

/* A node below `below` in the group of node `of`, or `of` itself. */
static size_t rg_peer(rgraph *g, size_t of, size_t below)
{
    size_t j = rg_rand(g) % below;
    j = j - j % RG_GROUPS + of % RG_GROUPS;
    return j < below ? j : of;
}

/* An earlier list of of's group (every tuple holds one, so it stays tracked). */
static size_t rg_some_list(rgraph *g, size_t of, size_t below)
{
    for (;;) {
        size_t j = rg_peer(g, of, below);
        if (j < below && g->is_list[j]) return j;
    }
}

static void rg_build(om_heap *h, rgraph *g)
{
    for (size_t i = 0; i < RG_N; i++) {
        uint32_t r = rg_rand(g) % 100;
        if (i < 2 * RG_GROUPS || r < 80) {
            g->is_list[i] = 1;
            assert_non_null(g->obj[i] = om_list_new(h, 0));
            continue;
        }
        size_t n = r < 95 ? 2 + rg_rand(g) % 3 : RG_LARGE;
        om_object *t = om_tuple_new(h, n);
        assert_non_null(t);
        for (size_t k = 0; k < n; k++) {
            size_t j = k == 0 ? rg_some_list(g, i, i) : rg_peer(g, i, i);
            if (j == i) j = rg_some_list(g, i, i);
            assert_int_equal(om_tuple_set(t, (ptrdiff_t)k, g->obj[j]), 0);
            rg_edge(g, i, j);
        }
        g->obj[i] = t;
    }
    for (size_t e = 0; e < g->list_edges; e++) { /* lists: edges either way */
        size_t from = rg_rand(g) % RG_N, to = rg_peer(g, from, RG_N);
        if (!g->is_list[from]) continue;
        assert_int_equal(om_list_append(g->obj[from], g->obj[to]), 0);
        rg_edge(g, from, to);
    }
}

/* Hold 1 in root_odds nodes from outside; mark what they reach. Returns that. */
static size_t rg_roots(rgraph *g)
{
    static uint32_t stack[RG_N];
    size_t sp = 0, n = 0;
    for (size_t i = 0; i < RG_N; i++)
        if ((g->root[i] = i % RG_GROUPS < RG_GROUPS / 2 && rg_rand(g) % g->root_odds == 0) &&
            !g->reached[i]) {
            g->reached[i] = 1;
            stack[sp++] = (uint32_t)i;
        }
    while (sp) {
        uint32_t i = stack[--sp];
        n++;
        for (size_t k = 0; k < g->nadj[i]; k++)
            if (!g->reached[g->adj[i][k]]) {
                g->reached[g->adj[i][k]] = 1;
                stack[sp++] = g->adj[i][k];
            }
    }
    return n;
}

/* Returns how many objects the collections freed. */
static long rg_run(om_heap *h, uint64_t seed, size_t list_edges, size_t root_odds)
{
    rgraph *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->seed = seed;
    g->list_edges = list_edges;
    g->root_odds = root_odds;
    om_gc_disable(h);
    rg_build(h, g);
    size_t live = rg_roots(g);
    for (size_t i = 0; i < RG_N; i++)
        if (!g->root[i]) om_decref(g->obj[i]);
    long got = om_gc_collect(h, 0);
    assert_true(got >= 0);
    long full = om_gc_collect(h, -1);
    assert_true(full >= 0);
    if (user_objects(h) != live) { /* the rest died by count or by collection */
        fprintf(stderr, "seed %llu: %zu objects live after collecting, expected %zu\n",
                (unsigned long long)seed, user_objects(h), live);
        fail();
    }
    assert_int_equal(om_heap_check(h), 0);
    for (size_t i = 0; i < RG_N; i++) /* survivors keep their items */
        if (g->reached[i] && g->is_list[i]) assert_int_equal(om_list_len(g->obj[i]), g->nadj[i]);
    for (size_t i = 0; i < RG_N; i++)
        if (g->root[i]) om_decref(g->obj[i]);
    om_gc_collect(h, -1);
    assert_int_equal(user_objects(h), 0);
    for (size_t i = 0; i < RG_N; i++) free(g->adj[i]);
    free(g);
    om_gc_enable(h);

    return got + full;
}

static void test_types_gc_random_graphs(void **state)
{
    om_heap *h = OM_HEAP(state);
    long freed = 0;
    for (uint64_t seed = 1; seed <= 12; seed++)
        freed += rg_run(h, seed * 0x9E3779B97F4A7C15ull, RG_N * (seed % 4) / 2, 4u << (seed % 5));
    assert_true(freed > RG_N); /* cyclic garbage was there to find */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_types_gc_list_holding_itself, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_dict_holding_itself, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_tuple_list_cycle, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_mixed_ring, om_test_setup, om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_reachable_containers_survive, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_list_holding_itself, om_test_setup_debug,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_random_graphs, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_types_gc_random_graphs, om_test_setup_debug,
                                        om_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
