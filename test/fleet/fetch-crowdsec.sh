#!/usr/bin/env bash
# Unpacks Debian's crowdsec package (the Local API and cscli) into DIR for the fleet tests, without installing
# its service. Does nothing when DIR already holds both programs.
set -euo pipefail
dir=${1:?usage: fetch-crowdsec.sh DIR}
if [ -x "$dir/usr/bin/crowdsec" ] && [ -x "$dir/usr/bin/cscli" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download crowdsec >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get download crowdsec >/dev/null 2>&1; }
mkdir -p "$dir"
dpkg -x crowdsec_*.deb "$dir"
test -x "$dir/usr/bin/crowdsec"
