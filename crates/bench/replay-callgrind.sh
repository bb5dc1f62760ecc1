#!/usr/bin/env bash
# Instructions a call, counted by callgrind (exact, and the same on any machine of the kind), of
# the replay bench's two kinds: the mock answering from a cassette and the scripted mock, each
# alone in its own process (`REPLAY_ONLY`), the client's calls made one after another on one
# thread, the server's work in the same process.
#
#   crates/bench/replay-callgrind.sh
#
# Each kind runs with FEW and MANY calls; instructions a call is the difference of the two totals
# over the difference of the counts, so the set-up (runtime, servers, and for a replay reading
# the cassette, recorded beforehand with MANY + 1 calls) cancels out. Needs valgrind.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
few=${FEW:-300}
many=${MANY:-900}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cd "$root"
bin=$(cargo bench --quiet -p aimlapi-bench --bench replay --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "replay" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The cassette, recorded once outside valgrind: both replaying runs read the same file.
REPLAY_ONLY=record REPLAY_RECORD=$((many + 1)) REPLAY_DIR="$work/cassettes" "$bin"

total() { # kind, calls: the whole process's instructions
  REPLAY_ONLY="$1" REPLAY_N="$2" REPLAY_DIR="$work/cassettes" \
    valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" >/dev/null 2>"$work/log"
  sed -n 's/^summary: //p' "$work/out"
}

declare -A per
for kind in scripted replay; do
  a=$(total "$kind" "$few")
  b=$(total "$kind" "$many")
  per[$kind]=$(echo "($b - $a) / ($many - $few)" | bc -l)
done
echo "instructions a call, whole process ($few and $many calls of each kind)"
printf '  %-9s %10.1f k\n' scripted "$(echo "${per[scripted]} / 1000" | bc -l)"
printf '  %-9s %10.1f k   %.3fx the scripted\n' replay "$(echo "${per[replay]} / 1000" | bc -l)" \
  "$(echo "${per[replay]} / ${per[scripted]}" | bc -l)"
