#!/usr/bin/env bash
# The layout promises, built for real in scratch trees:
#  1. core/ alone (cmake -S core) builds libalcm, shared and static, and installs alcm.h
#     but not the in-tree developer header alcm_tools.h;
#  2. the user tool `alcm` (and alcmd) build from a copy of the sources without bench/.
#   tests/layout/check_builds.sh SOURCE_DIR
set -euo pipefail
src="$1"
work="$(mktemp -d /tmp/alcm-layout.XXXXXX)"
trap 'rm -rf "$work"' EXIT
jobs=2

echo "== core alone"
cmake -S "$src/core" -B "$work/core" -DCMAKE_INSTALL_PREFIX="$work/core-prefix" >/dev/null
cmake --build "$work/core" -j"$jobs" >/dev/null
cmake --install "$work/core" >/dev/null
ls "$work"/core-prefix/lib*/libalcm.so* "$work"/core-prefix/lib*/libalcm.a >/dev/null
[ -f "$work/core-prefix/include/alcm.h" ] || { echo "alcm.h not installed"; exit 1; }
if [ -e "$work/core-prefix/include/alcm_tools.h" ]; then
  echo "alcm_tools.h must not be installed"; exit 1
fi
built=$(find "$work/core" -name '*.o' | grep -v '/alcm_obj.dir/' || true)
[ -z "$built" ] || { echo "core alone built more than libalcm:"; echo "$built"; exit 1; }

echo "== alcm and alcmd without bench/"
mkdir -p "$work/tree"
(cd "$src" && tar --exclude=./bench --exclude=./tests --exclude='./build*' --exclude=./.git \
   --exclude=./results -cf - .) | tar -C "$work/tree" -xf -
cmake -S "$work/tree" -B "$work/nobench" -DALCM_BUILD_TESTS=OFF >/dev/null
cmake --build "$work/nobench" -j"$jobs" --target alcm_cli alcmd >/dev/null
"$work/nobench/bin/alcm" sample -o "$work/s.f32"
"$work/nobench/bin/alcm" compress --shape 100x100 "$work/s.f32" -o "$work/s.alcm" -q
"$work/nobench/bin/alcm" decompress "$work/s.alcm" -o "$work/s.back"
echo "layout builds OK"
