/*
 * graph_cmd.c - `objmem graph`: pictures of a heap.
 *   objmem graph demo [-o FILE] [--heapsnapshot FILE] [--dumps OLD NEW]
 *       the tour's leak ("roots" section): its DOT picture (FILE.dot, or
 *       FILE.svg / FILE.png rendered with Graphviz; stdout without -o), a
 *       Chrome DevTools heap snapshot, the snapshot dumps before and after
 *   objmem graph render IN.dot -o OUT.svg|OUT.png
 *       render DOT text with Graphviz's `dot` (Debian: apt-get install graphviz)
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tour.h"

extern char **environ;

int om_cmd_graph(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out, "usage: objmem graph demo [-o FILE.dot|.svg|.png] [--heapsnapshot FILE] "
                 "[--dumps OLD NEW]\n"
                 "       objmem graph render IN.dot -o OUT.svg|OUT.png\n");
}

/* The Graphviz output format named by path's extension, or NULL. */
static const char *image_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".svg") == 0 || strcmp(dot, ".png") == 0)) return dot + 1;
    return NULL;
}

/* Run `dot -T<fmt> in -o out`. 0, or 1 with a message. */
static int render(const char *in, const char *out)
{
    const char *fmt = image_format(out);
    if (!fmt) {
        fprintf(stderr, "objmem graph: %s: the output must end in .svg or .png\n", out);
        return 1;
    }
    char t[16];
    snprintf(t, sizeof t, "-T%s", fmt);
    char *argv[] = {"dot", t, (char *)in, "-o", (char *)out, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "dot", NULL, NULL, argv, environ) != 0) {
        fprintf(stderr,
                "objmem graph: Graphviz's `dot` is not installed (apt-get install graphviz); "
                "the DOT text is in %s\n",
                in);
        return 1;
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "objmem graph: dot failed on %s\n", in);
        return 1;
    }
    return 0;
}

static int demo(int argc, char **argv)
{
    const char *out = NULL, *snap = NULL, *old_dump = NULL, *new_dump = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--heapsnapshot") == 0 && i + 1 < argc) {
            snap = argv[++i];
        } else if (strcmp(argv[i], "--dumps") == 0 && i + 2 < argc) {
            old_dump = argv[++i];
            new_dump = argv[++i];
        } else {
            fprintf(stderr, "objmem graph demo: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!out || !image_format(out))
        return om_tour_roots_files(out ? out : "-", snap, old_dump, new_dump) ? 1 : 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%.4000s.dot", out);
    if (om_tour_roots_files(tmp, snap, old_dump, new_dump)) return 1;
    int rc = render(tmp, out);
    if (!rc) remove(tmp);
    return rc;
}

int om_cmd_graph(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "demo") == 0) return demo(argc - 1, argv + 1);
    if (argc == 4 && strcmp(argv[0], "render") == 0 && strcmp(argv[2], "-o") == 0)
        return render(argv[1], argv[3]);
    usage(argc == 0 ? stdout : stderr);
    return argc == 0 ? 0 : 2;
}
