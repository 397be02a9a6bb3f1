#!/usr/bin/env bash
# Installs the Debian packages in deploy/debian-packages.txt that are missing. As root it
# runs apt-get itself; otherwise it uses sudo when available, or prints the command to run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t pkgs < <(grep -v '^\s*#' "$here/debian-packages.txt" | grep -v '^\s*$')
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
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
