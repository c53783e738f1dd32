#!/bin/sh
# Compiles Lua 5.4 (the interpreter and the compiler, all of its C sources) and the healthcheck with $CC.
set -eu
mkdir -p /src /out
tar -C /src -xzf /bench/lua.tar.gz
cd /src/lua-*/src
for prog in lua luac; do
  sources=""
  for c in ./*.c; do
    case "$prog:$c" in lua:./luac.c | luac:./lua.c) ;; *) sources="$sources $c" ;; esac
  done
  # shellcheck disable=SC2086 # flag and file lists
  $CC $CFLAGS -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -o "/out/$prog" $sources $LDFLAGS -lm
done
# shellcheck disable=SC2086
$CC $CFLAGS -o /out/healthcheck /bench/healthcheck.c $LDFLAGS
ls -l /out
