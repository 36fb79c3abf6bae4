/*
 * leak_prog.c - a program that leaks, for `objmem trace` (trace_test.sh):
 * 100 blocks from leak_here(), one large block from main, and with the
 * argument "usr2" a snapshot asked for while it runs. Exits with status 3
 * (objmem trace must pass it on).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *leak_here(size_t n)
{
    void *p = malloc(n);
    if (p) memset(p, 1, n);
    return p;
}

int main(int argc, char **argv)
{
    static void *volatile sink;
    for (int i = 0; i < 100; i++) sink = leak_here(200);
    for (int i = 0; i < 1000; i++) free(malloc(64)); /* freed: not a leak */
    if (argc > 1 && strcmp(argv[1], "usr2") == 0) {
        raise(SIGUSR2);
        free(malloc(10)); /* the shim writes the snapshot on its next call */
    }
    sink = malloc(100000);
    (void)sink;
    return 3;
}
