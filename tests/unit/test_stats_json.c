/*
 * test_stats_json.c - om_heap_print_stats_json: every documented key is
 * there, the numbers equal the public structs', the tracing part appears
 * only while tracing, and the output is valid JSON (balanced outside
 * strings, and accepted by `python3 -m json.tool` when python3 is there).
 */
#include <unistd.h>

#include "om_test.h"

/* The JSON of h, in a buffer the caller frees. */
static char *json_of(om_heap *h)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(om_heap_print_stats_json(h, f), 0);
    long n = ftell(f);
    assert_true(n > 2);
    rewind(f);
    char *buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Braces and brackets balance outside strings, and nothing follows the
 * top-level object but a newline. */
static int balanced(const char *s)
{
    int depth = 0, in_str = 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
            continue;
        }
        if (*p == '"')
            in_str = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            if (--depth < 0) return 0;
            if (depth == 0 && strcmp(p + 1, "\n") != 0) return 0;
        }
    }
    return depth == 0 && !in_str;
}

static void expect(const char *json, const char *fmt, size_t v)
{
    char key[128];
    snprintf(key, sizeof key, fmt, v);
    if (!strstr(json, key)) fail_msg("missing %s in %s", key, json);
}

static void make_workload(om_heap *h, om_object **keep, void **raw)
{
    keep[0] = om_list_new(h, 0);
    for (int i = 0; i < 20; i++) {
        om_object *f = om_float_new(h, i + 0.5);
        assert_int_equal(om_list_append(keep[0], f), 0);
        om_decref(f);
    }
    keep[1] = om_str_intern_cstr(h, "a \"quoted\" key");
    *raw = om_malloc(h, 1000);
}

static void test_stats_json_keys_and_numbers(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *keep[2];
    void *raw;
    make_workload(h, keep, &raw);
    om_gc_collect(h, 0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    om_gc_stats gs[3];
    om_gc_get_stats(h, gs);
    char *json = json_of(h);
    static const char *const keys[] = {"\"allocator\":",  "\"classes\":[", "\"arenas\":",
                                       "\"objects\":",    "\"types\":[",   "\"types\":{",
                                       "\"freelists\":[", "\"gc\":",       "\"generations\":[",
                                       "\"trace\":",      "\"pause_ns\":", "\"threshold\":"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(json, keys[i])) fail_msg("missing key %s", keys[i]);
    expect(json, "\"bytes_in_use\":%zu,", st.bytes_in_use);
    expect(json, "\"peak_bytes\":%zu,", st.peak_bytes);
    expect(json, "\"large_blocks\":%zu,", st.large_blocks);
    expect(json, "\"large_bytes\":%zu,", st.large_bytes);
    expect(json, "\"count\":%zu,\"peak\"", st.arenas);
    expect(json, "\"os_bytes\":%zu}", st.os_bytes);
    expect(json, "\"live\":%zu,", st.objects);
    expect(json, "\"heap_objects\":%zu,", st.heap_objects);
    expect(json, "\"small_ints\":%zu,", st.small_ints);
    expect(json, "\"interned\":%zu,", st.interned);
    expect(json, "{\"class\":31,\"block_size\":%zu,", st.classes[31].block_size);
    expect(json, "\"collections\":%zu,", gs[0].collections);
    char want[160];
    snprintf(want, sizeof want, "{\"class\":1,\"block_size\":32,\"pools\":%zu,\"blocks_used\":%zu,",
             st.classes[1].pools, st.classes[1].blocks_used);
    assert_non_null(strstr(json, want));
    for (size_t i = 0; i < st.ntypes; i++) {
        snprintf(want, sizeof want, "{\"name\":\"%s\",\"count\":%zu,\"bytes\":%zu}",
                 st.types[i].name, st.types[i].count, st.types[i].bytes);
        if (!strstr(json, want)) fail_msg("missing %s", want);
    }
    assert_non_null(strstr(json, "\"name\":\"float\""));
    assert_non_null(strstr(json, "\"tracing\":false}"));
    assert_null(strstr(json, "traced_bytes"));
    assert_true(balanced(json));
    free(json);
    om_decref(keep[0]);
    om_decref(keep[1]);
    om_free(h, raw);
}

static void test_stats_json_tracing_summary(void **state)
{
    om_heap *h = OM_HEAP(state);
    assert_int_equal(om_trace_start(h, 2), 0);
    void *p = om_malloc(h, 300);
    size_t cur, peak;
    om_trace_get_traced_memory(h, &cur, &peak);
    char *json = json_of(h);
    assert_non_null(strstr(json, "\"tracing\":true,\"traceback_limit\":2,"));
    expect(json, "\"traced_bytes\":%zu,", cur);
    expect(json, "\"traced_peak\":%zu,", peak);
    assert_true(cur >= 300);
    assert_true(balanced(json));
    free(json);
    om_free(h, p);
    om_trace_stop(h);
}

static void test_stats_json_is_valid_json(void **state)
{
    om_heap *h = OM_HEAP(state);
    om_object *keep[2];
    void *raw;
    make_workload(h, keep, &raw);
    char *json = json_of(h);
    assert_true(balanced(json));
    if (access("/usr/bin/python3", X_OK) == 0) {
        FILE *p = popen("/usr/bin/python3 -m json.tool >/dev/null", "w");
        assert_non_null(p);
        fputs(json, p);
        assert_int_equal(pclose(p), 0);
    }
    free(json);
    om_decref(keep[0]);
    om_decref(keep[1]);
    om_free(h, raw);
}

static void test_stats_json_rejects_null_heap(void **state)
{
    (void)state;
    assert_int_equal(om_heap_print_stats_json(NULL, stdout), OM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stats_json_keys_and_numbers, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stats_json_tracing_summary, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test_setup_teardown(test_stats_json_is_valid_json, om_test_setup,
                                        om_test_teardown),
        cmocka_unit_test(test_stats_json_rejects_null_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
