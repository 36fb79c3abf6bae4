/*
 * undocumented.h - a header for tests/docs/test_check_docs.sh: the
 * declarations marked BAD must be reported by tools/check-docs.pl, the
 * others must not.
 */
#ifndef UNDOCUMENTED_H
#define UNDOCUMENTED_H

/* Documented: a comment of its own. */
int om_good_one(int x);

/* A group comment documents only the first of the group. */
void om_good_grouped(void);
void om_bad_grouped(void); /* BAD: line 14 */

/* ------------------------------------------------------------ a section */
int om_bad_after_rule(void); /* BAD: line 17 */

int om_bad_bare(void); /* BAD: line 19 */

/* Documented static inline. */
static inline int om_good_inline(int x)
{
    return om_bad_not_a_declaration(x); /* a call in a body: not checked */
}
static inline int om_bad_inline(void) /* BAD: line 26 */
{
    return 0;
}

/* Documented macro. */
#define om_good_macro(o) ((void)(o))
#define om_bad_macro(o) ((void)(o)) /* BAD: line 33 */

int om__internal(void); /* internal names are not checked */
typedef void (*om_callback_type)(int); /* a type, not a function */

/* Documented, over several lines,
 * with a second line. */
const char *om_good_multiline(const char *s,
                              int n);

/* Documented, the return type on a line of its own. */
const char *
om_good_split(void);

const char *
om_bad_split(void); /* BAD: line 48 */

int om_bad_trailing(void); /* BAD: line 50, a trailing comment
                              over two lines is not documentation */

#endif
