#!/usr/bin/env bash
# Runs the README's shell blocks as written, so the README cannot drift from the programs.
#   tests/readme/run.sh README.md BUILD_DIR
# Every ```sh / ```bash block of README.md is appended, in order, to one script (one shell
# session, as a reader types them), run with `set -eu` in a scratch directory whose build/ is
# BUILD_DIR (for the unprivileged run, a copy of BUILD_DIR/bin). Left out: a block preceded (blank lines allowed) by the line
#   <!-- not-run-in-tests -->
# and every block from a line `<!-- not-run-in-tests: section -->` before a heading up to
# the next heading of the same or a higher level. As root the script runs twice: as root and
# as the unprivileged user nobody (uid 65534, setpriv), the README's promise for both.
set -euo pipefail
readme="$1"
build="$(cd "$2" && pwd)"
script="$(mktemp /tmp/alcm-readme.XXXXXX.sh)"
trap 'rm -f "$script"' EXIT

awk -v out="$script" '
  function heading_level(line,   n) { n = 0; while (substr(line, n + 1, 1) == "#") n++; return n }
  BEGIN {
    print "set -eu" > out
    print "trap '\''kill $(jobs -p) 2>/dev/null || true'\'' EXIT" > out
    skip_next = 0; skip_level = 0; pending_section = 0; inblock = 0; run = 0; n = 0; skipped = 0
  }
  inblock {
    if ($0 ~ /^```[[:space:]]*$/) { inblock = 0; next }
    if (run) print > out
    next
  }
  /^<!-- not-run-in-tests -->[[:space:]]*$/ { skip_next = 1; next }
  /^<!-- not-run-in-tests: section -->[[:space:]]*$/ { pending_section = 1; next }
  /^#+ / {
    lvl = heading_level($0)
    if (skip_level && lvl <= skip_level) skip_level = 0
    if (pending_section) { skip_level = lvl; pending_section = 0 }
    skip_next = 0
    next
  }
  /^```/ {
    inblock = 1
    lang = substr($0, 4); gsub(/[[:space:]]/, "", lang)
    run = (lang == "sh" || lang == "bash") && !skip_next && !skip_level
    if (lang == "sh" || lang == "bash") { if (run) n++; else skipped++ }
    if (run) printf "# --- README block %d (line %d)\n", n, NR > out
    skip_next = 0
    next
  }
  /^[[:space:]]*$/ { next }
  { skip_next = 0 }
  END {
    if (inblock) { print "unterminated code block" > "/dev/stderr"; exit 1 }
    printf "%d shell blocks to run, %d marked not-run-in-tests\n", n, skipped > "/dev/stderr"
    if (n == 0) exit 1
  }
' "$readme"

run_as() {   # run_as LABEL [setpriv args...]
  local label="$1"; shift
  local dir
  dir="$(mktemp -d /tmp/alcm-readme-run.XXXXXX)"
  if [ $# -gt 0 ]; then
    # The user may not reach the build tree (under /root, say): a copy of its programs.
    mkdir -p "$dir/build"
    cp -r "$build/bin" "$dir/build/bin"
  else
    ln -s "$build" "$dir/build"
  fi
  cp "$script" "$dir/readme.sh"
  [ $# -gt 0 ] && chown -R 65534:65534 "$dir"
  echo "== README blocks as $label in $dir"
  local rc=0
  (cd "$dir" && "$@" env HOME="$dir" bash -x readme.sh) || rc=$?
  rm -rf "$dir"
  [ $rc -eq 0 ] || { echo "README blocks failed as $label (exit $rc)" >&2; exit 1; }
}

run_as "$(id -un 2>/dev/null || id -u)"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  run_as "nobody" setpriv --reuid=65534 --regid=65534 --clear-groups
fi
echo "README blocks passed"
