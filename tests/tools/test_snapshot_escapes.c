/*
 * test_snapshot_escapes.c - `objmem snapshot top|folded` on a snapshot
 * whose file names hold an escape sequence, a newline, a carriage return
 * and DEL (issue 12): the output carries none of them raw, and says them
 * as C escapes. OBJMEM_BIN is the objmem command (cmake/part-harden.cmake).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objmem.h"

static const char *evil = "x\x1b[2J\x1b[31mred\nfake line\r\x7f.py";

static int provider(void *ctx, om_frame *out, int max)
{
    (void)ctx;
    if (max > 0) out[0] = (om_frame){evil, 3, "f\x1b]0;title\x07"};
    return 1;
}

static int run(const char *args, const char *path, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s snapshot %s %s", OBJMEM_BIN, args, path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(out, 1, n - 1, p);
    out[got] = 0;
    return pclose(p);
}

static int clean(const char *out)
{
    for (const unsigned char *c = (const unsigned char *)out; *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7F) return 0;
    return 1;
}

int main(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h || om_trace_start(h, 1) < 0) return 1;
    om_trace_set_frame_provider(h, provider, NULL);
    void *b = om_malloc(h, 100);
    om_snapshot *s = om_trace_take_snapshot(h);
    char path[] = "/tmp/om_esc_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || !s || om_snapshot_dump(s, path) < 0) return 1;
    close(fd);
    static char out[65536];
    int bad = 0;
    const char *modes[] = {"top --by lineno", "top --by traceback", "top --by filename", "folded"};
    for (int i = 0; i < 4; i++) {
        int rc = run(modes[i], path, out, sizeof out);
        int ok = rc == 0 && clean(out) && !strstr(out, "fake line\n") &&
                 (i == 3 || strstr(out, "\\x1b[2J")); /* folded: "_" for each */
        if (!ok) {
            fprintf(stderr, "objmem snapshot %s: status %d, output:\n", modes[i], rc);
            for (const unsigned char *c = (const unsigned char *)out; *c; c++)
                fprintf(stderr, (*c < 0x20 && *c != '\n') || *c == 0x7F ? "<%02x>" : "%c", *c);
            bad = 1;
        }
    }
    unlink(path);
    om_snapshot_free(s);
    om_free(h, b);
    om_trace_stop(h);
    om_heap_destroy(h);
    if (!bad) printf("objmem snapshot escapes control characters: ok\n");
    return bad;
}
