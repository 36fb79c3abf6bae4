/*
 * om_test.c - shared support for the test executables (see om_test.h).
 */
#include "om_test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int setup_with(void **state, int debug, int nostress)
{
    om_config cfg;
    om_config_init(&cfg);
    cfg.debug = debug;
    if (nostress) cfg.gc_stress = 0;
    om_heap *h = om_heap_new(&cfg);
    if (!h) return -1;
    *state = h;
    return 0;
}

int om_test_setup(void **state)
{
    return setup_with(state, 0, 0);
}
int om_test_setup_debug(void **state)
{
    return setup_with(state, 1, 0);
}
int om_test_setup_nostress(void **state)
{
    return setup_with(state, 0, 1);
}

int om_test_gc_stress(void)
{
    const char *s = getenv("OBJMEM_GC_STRESS");
    return s && *s && strcmp(s, "0") != 0;
}

int om_test_teardown(void **state)
{
    om_heap *h = *state;
    assert_int_equal(om_heap_check(h), 0);
    om_heap_stats st;
    om_heap_get_stats(h, &st);
    /* what the heap holds itself (singletons, caches) is not the case's */
    if (st.objects != st.heap_objects || st.raw_blocks != st.heap_raw_blocks)
        om_heap_print_stats(h, stderr);
    assert_int_equal(st.objects, st.heap_objects);
    assert_int_equal(st.raw_blocks, st.heap_raw_blocks);
    om_heap_destroy(h);
    return 0;
}

int om_test_teardown_lenient(void **state)
{
    om_heap *h = *state;
    assert_int_equal(om_heap_check(h), 0);
    om_heap_destroy(h);
    return 0;
}

int om_test_run_child(void (*fn)(void *arg), void *arg, char *buf, size_t n)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        signal(SIGABRT, SIG_DFL);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + got, got + 1 < n ? n - 1 - got : 0)) > 0) got += (size_t)r;
    char sink[256];
    while (read(fds[0], sink, sizeof sink) > 0) {
    }
    buf[got] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

int om_test_aborted(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

typedef struct stack_job {
    int (*fn)(void *);
    void *arg;
    int ret;
} stack_job;

static void *stack_main(void *p)
{
    stack_job *j = p;
    j->ret = j->fn(j->arg);
    return NULL;
}

int om_test_on_small_stack(int (*fn)(void *arg), void *arg, size_t stack_bytes)
{
    pthread_attr_t attr;
    pthread_t t;
    stack_job job = {fn, arg, -1};
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_bytes);
    if (pthread_create(&t, &attr, stack_main, &job) != 0) return -1;
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    return job.ret;
}
