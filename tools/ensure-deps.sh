#!/bin/sh
# ensure-deps.sh WHAT - make sure the Debian packages a make target needs
# are installed: install them when running as root, else print the exact
# apt-get line and fail.
set -e
case "$1" in
  build) pkgs="cmake gcc make libcmocka-dev libdw-dev libunwind-dev" ;;
  test) pkgs="cmake gcc make libcmocka-dev libdw-dev libunwind-dev" ;;
  shim-test) pkgs="gawk sqlite3 xz-utils git g++ perl gzip python3.11 libpython3.11-testsuite" ;;
  valgrind) pkgs="cmake gcc make libcmocka-dev valgrind" ;;
  *) pkgs="$*" ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "objmem: installing$missing" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "objmem: missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi
