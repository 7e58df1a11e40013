#!/usr/bin/env bash
# Whether a speed change kept parse's output: the build in BASE (another checkout, built) and this one's, on the
# benchmark corpus, in every output mode, with the --stats counts (the timing line left out).
# Usage: benchmarks/same-output.sh BASE [FILE]   (FILE: benchmarks/data/mixed-1m.log, made by parse.mjs)
set -euo pipefail
base=${1:?usage: benchmarks/same-output.sh BASE [FILE]}
here=$(cd "$(dirname "$0")/.." && pwd)
file=${2:-$here/benchmarks/data/mixed-1m.log}
status=0
for mode in "--format sshguard" "--format sshguard --every-line" "--format json" "--format json --every-line --all" \
  "--format text" "--format text --every-line --all"; do
  # shellcheck disable=SC2086
  a=$(node "$base/dist/cli/main.js" parse $mode --stats "$file" 2>&1 | grep -v '^lines read' | md5sum)
  # shellcheck disable=SC2086
  b=$(node "$here/dist/cli/main.js" parse $mode --stats "$file" 2>&1 | grep -v '^lines read' | md5sum)
  if [ "$a" = "$b" ]; then echo "same: $mode"; else echo "DIFFERENT: $mode"; status=1; fi
done
exit $status
