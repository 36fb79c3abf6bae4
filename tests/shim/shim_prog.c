/*
 * shim_prog.c - run with LD_PRELOAD=libobjmem-malloc.so (ctest shim_preload):
 * what only the real symbol names can show. Allocation in a constructor
 * that runs before the shim's, dlsym and dlerror (which allocate inside
 * the dynamic linker), the shim's own size classes (proof that malloc is
 * the shim's), mallinfo2, errno, fork from a multithreaded program, and
 * exit while other threads still allocate. Prints "shim_prog: ok".
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "shim_prog: check failed at line %d: %s\n", __LINE__, #c);             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char *early;
__attribute__((constructor(101))) static void before_everything(void)
{
    early = strdup("made in a constructor");
}

static volatile int stop;
static void *churn(void *arg)
{
    (void)arg;
    while (!stop) {
        void *p[32];
        for (int i = 0; i < 32; i++) p[i] = malloc((size_t)(i * 97 % 4000));
        for (int i = 0; i < 32; i++) free(p[i]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    CHECK(early && strcmp(early, "made in a constructor") == 0);
    free(early);
    /* the shim's classes: 17 bytes get a 32-byte block (glibc: 24); in
     * debug mode the usable size is the size asked for */
    void *p = malloc(17);
    CHECK(malloc_usable_size(p) == (getenv("OBJMEM_DEBUG") ? 17u : 32u));
    free(p);
    CHECK(dlsym(RTLD_DEFAULT, "no_such_symbol_anywhere") == NULL);
    CHECK(dlerror() != NULL);
    void *h = dlopen("libm.so.6", RTLD_NOW);
    CHECK(h && dlsym(h, "cos"));
    dlclose(h);
    struct mallinfo2 a = mallinfo2();
    void *blk[1000];
    for (int i = 0; i < 1000; i++) blk[i] = malloc(200);
    struct mallinfo2 b = mallinfo2();
    CHECK(b.uordblks >= a.uordblks + 1000 * 200);
    for (int i = 0; i < 1000; i++) free(blk[i]);
    errno = 0;
    CHECK(malloc(SIZE_MAX / 2) == NULL && errno == ENOMEM);
    void *al = aligned_alloc(4096, 4096);
    CHECK(al && ((uintptr_t)al & 4095) == 0);
    free(al);
    CHECK(malloc_trim(0) >= 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, churn, NULL);
    for (int k = 0; k < 10; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *s = malloc(1000);
            snprintf(s, 1000, "child %d", k);
            free(s);
            _exit(0);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    puts("shim_prog: ok");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "--join") == 0) {
        stop = 1;
        for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    }
    exit(0); /* the threads are still allocating */
}
