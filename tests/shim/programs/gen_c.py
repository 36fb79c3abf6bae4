# gen_c.py - a C file of about N lines (argv[1]) for gcc in make shim-test:
# structs, switches, loops and calls, so the compiler allocates in earnest.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
out = ["#include <stdio.h>", "#include <string.h>", ""]
i = 0
while len(out) < n:
    out += [
        "struct s%d { int a; double b[%d]; char name[%d]; struct s%d *next; };" % (i, i % 7 + 1, i % 13 + 4, i),
        "static int f%d(struct s%d *p, int k) {" % (i, i),
        "    int acc = %d;" % i,
        "    for (int j = 0; j < k; j++) {",
        "        switch ((j + %d) %% 5) {" % i,
        "        case 0: acc += p->a * j; break;",
        "        case 1: acc ^= (int)p->b[j %% %d]; break;" % (i % 7 + 1),
        "        case 2: acc -= (int)strlen(p->name); break;",
        "        case 3: if (p->next) acc += f%d(p->next, k - 1); break;" % i,
        "        default: acc = acc * 31 + j;",
        "        }",
        "    }",
        "    return acc;",
        "}",
        "",
    ]
    i += 1
out.append("int main(void) {")
out.append("    long t = 0;")
for k in range(i):
    out.append("    { struct s%d x; memset(&x, 0, sizeof x); x.a = %d; t += f%d(&x, %d); }" % (k, k, k, k % 9))
out.append('    printf("%ld\\n", t);')
out.append("    return 0;")
out.append("}")
print("\n".join(out))
