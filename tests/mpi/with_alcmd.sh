#!/bin/sh
# with_alcmd.sh - starts alcmd on a private socket, runs a command with
# ALCM_TEST_DAEMON_SOCKET and ALCM_TEST_DAEMON_PID set, then stops the daemon (if the
# command has not killed it already) and exits with the command's status.
# usage: with_alcmd.sh ALCMD COMMAND [ARGS...]
set -u
alcmd=$1
shift
dir=$(mktemp -d)
sock="$dir/alcmd.sock"
"$alcmd" --socket "$sock" --threads 1 --log-level warning 2>"$dir/alcmd.log" &
pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ ! -S "$sock" ]; then
    echo "with_alcmd: alcmd did not create $sock" >&2
    cat "$dir/alcmd.log" >&2
    kill "$pid" 2>/dev/null
    rm -rf "$dir"
    exit 1
fi
ALCM_TEST_DAEMON_SOCKET=$sock ALCM_TEST_DAEMON_PID=$pid "$@"
status=$?
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$dir"
exit $status
