#!/bin/sh
# check-exports.sh LIBRARY ABI_DOC NAME - fails unless the dynamic symbols LIBRARY defines
# (`nm -D --defined-only`) are exactly the list under the "### NAME exports" heading of
# ABI_DOC (one `symbol` per list item, version nodes included), and prints the difference.
set -eu
lib=$1
doc=$2
name=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$tmp/actual"
awk -v h="### $name exports" '
  $0 == h { on = 1; next }
  on && /^#/ { exit }
  on && /^- `/ { s = $0; sub(/^- `/, "", s); sub(/`.*/, "", s); print s }
' "$doc" | sort -u >"$tmp/documented"
if [ ! -s "$tmp/documented" ]; then
  echo "no \"### $name exports\" list in $doc" >&2
  exit 1
fi
if ! diff -u "$tmp/documented" "$tmp/actual"; then
  echo "the exports of $lib differ from the list in $doc (- documented, + exported)" >&2
  exit 1
fi
echo "$lib: $(wc -l <"$tmp/actual") exported symbols, as documented"
