#!/usr/bin/env bash
# One command from a fresh Debian 12 (as root, or with sudo) to a working
# portdex: installs every dependency with apt-get, builds, builds the
# default registry database from the IANA snapshot shipped in data/iana
# (plus the names of Wireshark's services file and /etc/services, nmap's
# frequencies, RPC names) and our curated data, and shows the card of
# port 645.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

need=$(grep -v '^#' scripts/packages.txt | grep -v '^$' | tr '\n' ' ')
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages:$missing; run as root (or with sudo)" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
./build/portdex update
./build/portdex 645
