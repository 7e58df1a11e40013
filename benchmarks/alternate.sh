#!/usr/bin/env bash
# Two or more builds of logwarden compared in wall time on a noisy machine: `parse` of the benchmark corpus run
# by each build in turn, N rounds, then each build's median wall and CPU (user + sys) time and every wall time.
# A build is a checkout (or a copy of dist/, rules/ and package.json, node_modules symlinked), built with tsc.
# Usage: benchmarks/alternate.sh N BUILD... [-- PARSE-OPTIONS]   (e.g. -- --every-line)
# FILE: benchmarks/data/mixed-1m.log (made by parse.mjs), or $LOGWARDEN_BENCH_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
file=${LOGWARDEN_BENCH_FILE:-$here/benchmarks/data/mixed-1m.log}
rounds=${1:?usage: benchmarks/alternate.sh N BUILD... [-- PARSE-OPTIONS]}
shift
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#builds[@]} -gt 0 ] || { echo "usage: benchmarks/alternate.sh N BUILD... [-- PARSE-OPTIONS]" >&2; exit 2; }
for _ in $(seq "$rounds"); do
  for build in "${builds[@]}"; do
    /usr/bin/time -f "$build %e %U %S" node "$build/dist/cli/main.js" parse --format sshguard "$@" "$file" > /dev/null
  done
done 2>&1 | python3 -c '
import sys, statistics as st
runs = {}
for line in sys.stdin:
    build, wall, user, system = line.rsplit(None, 3)
    runs.setdefault(build, []).append((float(wall), float(user) + float(system)))
for build, v in runs.items():
    print(f"{build}: wall median {st.median(w for w, _ in v):.3f} s, CPU median {st.median(c for _, c in v):.3f} s; walls",
          " ".join(f"{w:.2f}" for w, _ in v))
'
