/*
 * om_valgrind.h - Valgrind's client requests when its header is installed,
 * no-ops otherwise: tests that read memory memcheck considers undefined on
 * purpose, or that change behaviour under Valgrind, include this.
 */
#ifndef OM_TEST_VALGRIND_H
#define OM_TEST_VALGRIND_H

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define RUNNING_ON_VALGRIND             0
#endif

#endif
