#!/bin/sh
# check-install.sh [BUILD_DIR] - install objmem from BUILD_DIR (build/release)
# into a temporary prefix, then build the examples against the installed
# copy twice: with CMake's find_package(objmem) and with pkg-config
# (static link), and run every example. Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/objmem-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
EXAMPLES="tiny_interp graph weak_cache leak_hunt"

echo "check-install: installing $BUILD into $TMP/prefix"
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null

echo "check-install: find_package(objmem) build of examples/"
cmake -S examples -B "$TMP/cmake" -DCMAKE_PREFIX_PATH="$TMP/prefix" >/dev/null
cmake --build "$TMP/cmake" -j2 >/dev/null
for ex in $EXAMPLES; do
  (cd "$TMP/cmake" && "./$ex" >/dev/null 2>&1) || { echo "check-install: $ex (find_package) failed" >&2; exit 1; }
done

echo "check-install: pkg-config --static build of examples/"
export PKG_CONFIG_PATH="$TMP/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
[ -d "$TMP/prefix/lib/pkgconfig" ] || export PKG_CONFIG_PATH="$(dirname "$(find "$TMP/prefix" -name objmem.pc | head -1)")"
CFLAGS=$(pkg-config --cflags objmem)
LIBS=$(pkg-config --static --libs objmem)
mkdir -p "$TMP/pc"
for ex in $EXAMPLES; do
  # the static archive only: no rpath games with the shared library
  cc -std=c11 -g -O2 -Wall -Wextra -Werror -fno-omit-frame-pointer $CFLAGS examples/$ex.c \
    -o "$TMP/pc/$ex" -Wl,-Bstatic -lobjmem -Wl,-Bdynamic $(echo "$LIBS" | sed 's/-lobjmem//')
  (cd "$TMP/pc" && "./$ex" >/dev/null 2>&1) || { echo "check-install: $ex (pkg-config) failed" >&2; exit 1; }
done
echo "check-install: ok ($(echo $EXAMPLES | wc -w) examples, both ways)"
