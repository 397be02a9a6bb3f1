#!/usr/bin/env bash
# Installs the missing Debian packages of the lists named on the command line, each one
# deploy/packages/<purpose>.txt (one package a line, # comments):
#   build   compiler, CMake and the C libraries ALCM builds with (what deploy/demo.sh needs)
#   test    cmocka and the Fashion-MNIST data (tests/run adds test and mpi)
#   mpi     Open MPI, for the allreduce hook and its tests
#   python  NumPy and PyTorch for the Python tests (CI only: about 900 MB)
#   ci      clang/libFuzzer, zfp, libseccomp, iproute2 (.ci/run installs every list)
#   all     every list in deploy/packages/
# With no argument it installs the build list. As root it runs apt-get itself; otherwise it
# uses sudo when available, or prints the command to run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
purposes=("$@")
[ ${#purposes[@]} -eq 0 ] && purposes=(build)
if [ "${purposes[0]}" = all ]; then
  purposes=()
  for f in "$here"/packages/*.txt; do purposes+=("$(basename "$f" .txt)"); done
fi
pkgs=()
for p in "${purposes[@]}"; do
  list="$here/packages/$p.txt"
  [ -f "$list" ] || { echo "install-deps: no package list $list" >&2; exit 2; }
  mapfile -t -O ${#pkgs[@]} pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps (${purposes[*]}): installing ${missing[*]}" >&2
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  "${cmd[@]}"
elif command -v sudo >/dev/null; then
  sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  sudo env DEBIAN_FRONTEND=noninteractive "${cmd[@]}"
else
  echo "missing packages; run as root: apt-get update && ${cmd[*]}" >&2
  exit 1
fi
