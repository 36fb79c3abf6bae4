#!/bin/sh
# check-install.sh [BUILD_DIR] - install objmem from BUILD_DIR (build/release)
# into a temporary prefix, then build every example against the installed
# copy four ways and run it:
#   1. CMake find_package(objmem), objmem::objmem (the static library)
#   2. CMake find_package(objmem), objmem::shared (CMake's build rpath)
#   3. pkg-config --static: a fully static program (-static), which needs
#      objmem.pc's Requires.private: libdw to bring libelf, zlib, ... along
#   4. pkg-config (shared): -lobjmem with -Wl,-rpath to the prefix's libdir,
#      run without LD_LIBRARY_PATH, checked to load the installed library
# It also checks that the installed CMake files name no absolute path to a
# library of this machine (libdw is found again by find_dependency).
# Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/objmem-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
EXAMPLES="tiny_interp graph weak_cache leak_hunt"
CCFLAGS="-std=c11 -g -O2 -Wall -Wextra -Werror -fno-omit-frame-pointer"
fail() { echo "check-install: $*" >&2; exit 1; }
run_all() { # DIR HOW: run every example built in DIR
  for ex in $EXAMPLES; do
    (cd "$1" && env -u LD_LIBRARY_PATH "./$ex" >"$TMP/$ex.out" 2>&1) ||
      { cat "$TMP/$ex.out" >&2; fail "$ex ($2) failed"; }
  done
}

echo "check-install: installing $BUILD into $TMP/prefix"
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
CMAKEDIR=$(dirname "$(find "$TMP/prefix" -name objmemConfig.cmake | head -1)")
if grep -En '[";]/[^";]*\.(so|a)[";]' "$CMAKEDIR"/objmemTargets*.cmake >&2; then
  fail "the exported CMake targets name an absolute library path (above)"
fi

for how in static shared; do
  echo "check-install: find_package(objmem) build of examples/ ($how)"
  shared=OFF; [ $how = shared ] && shared=ON
  cmake -S examples -B "$TMP/cmake-$how" -DCMAKE_PREFIX_PATH="$TMP/prefix" \
    -DOM_EXAMPLES_SHARED=$shared >/dev/null
  cmake --build "$TMP/cmake-$how" -j2 >/dev/null
  run_all "$TMP/cmake-$how" "find_package, $how"
done
ldd "$TMP/cmake-shared/graph" | grep -q "$TMP/prefix/.*libobjmem.so" ||
  fail "the find_package shared build does not load the installed libobjmem.so"

export PKG_CONFIG_PATH="$(dirname "$(find "$TMP/prefix" -name objmem.pc | head -1)")"
CFLAGS=$(pkg-config --cflags objmem)
LIBDIR=$(cd "$(pkg-config --variable=libdir objmem)" && pwd)
echo "check-install: pkg-config --static build of examples/ (cc -static)"
mkdir -p "$TMP/pc-static" "$TMP/pc-shared"
for ex in $EXAMPLES; do
  # glibc warns that dlopen in a static program needs its shared libraries
  # at run time (libdw's debuginfod client): expected, not an error
  cc $CCFLAGS $CFLAGS examples/$ex.c -o "$TMP/pc-static/$ex" -static \
    $(pkg-config --static --libs objmem) 2>"$TMP/link.err" ||
    { cat "$TMP/link.err" >&2; fail "$ex: static link with pkg-config --static failed"; }
done
if ldd "$TMP/pc-static/graph" >/dev/null 2>&1; then fail "the -static build is dynamic"; fi
run_all "$TMP/pc-static" "pkg-config --static"

echo "check-install: pkg-config shared build of examples/ (rpath $LIBDIR)"
for ex in $EXAMPLES; do
  cc $CCFLAGS $CFLAGS examples/$ex.c -o "$TMP/pc-shared/$ex" $(pkg-config --libs objmem) \
    -Wl,-rpath,"$LIBDIR"
done
ldd "$TMP/pc-shared/graph" | grep -q "$TMP/prefix/.*libobjmem.so" ||
  fail "the pkg-config shared build does not load the installed libobjmem.so"
run_all "$TMP/pc-shared" "pkg-config, shared"
echo "check-install: ok ($(echo $EXAMPLES | wc -w) examples, 4 ways: find_package static and" \
  "shared, pkg-config --static (-static) and shared)"
