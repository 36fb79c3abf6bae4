/*
 * cfi_module.c - a module test_trace_cfi loads with dlopen after its first
 * walks (tests/CMakeLists.txt builds it twice, without frame pointers): the
 * table walk must find the rules of code mapped after it read the modules.
 */
typedef int (*cfi_cb)(void *arg);

static __attribute__((noinline)) int down(cfi_cb cb, void *arg, int k)
{
    volatile char pad[40];
    pad[0] = (char)k;
    int r = k ? down(cb, arg, k - 1) : cb(arg);
    return r + pad[0];
}

int cfi_module_call(cfi_cb cb, void *arg, int depth);
int cfi_module_call(cfi_cb cb, void *arg, int depth)
{
    int r = down(cb, arg, depth);
    __asm__ volatile("" ::: "memory");
    return r;
}
