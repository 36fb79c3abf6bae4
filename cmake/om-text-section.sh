#!/bin/sh
# om-text-section.sh OBJCOPY COMPILER ARGS... - the compiler launcher of
# objmem's own sources (cmake/part-trace.cmake): compile, then move the
# object's code into the section objmem_text. The linker gathers every
# objmem_text input section into one output section and defines
# __start_objmem_text and __stop_objmem_text around it, in a static link
# and in the shared library alike, so the tracer knows objmem's own code by
# address without debug information (src/trace/textrange.c).
objcopy=$1
shift
"$@" || exit $?
out=""
prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out=$a
  prev=$a
done
case "$out" in
  *.o)
    exec "$objcopy" --rename-section .text=objmem_text \
      --rename-section .text.unlikely=objmem_text --rename-section .text.hot=objmem_text \
      --rename-section .text.startup=objmem_text --rename-section .text.exit=objmem_text "$out"
    ;;
esac
