#!/bin/sh
# check.sh - installs a build tree into a temporary prefix and builds a user's program
# against it both ways a user would: find_package(alcm) (shared and static targets) and
# pkg-config. usage: check.sh BUILD_DIR SOURCE_DIR_OF_THIS_SCRIPT
set -eu
build=$1
here=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$here" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH="$libdir"
# shellcheck disable=SC2046
cc -o "$tmp/consumer_pc" "$here/consumer.c" $(pkg-config --cflags --libs alcm)
LD_LIBRARY_PATH=$(dirname "$libdir") "$tmp/consumer_pc"
