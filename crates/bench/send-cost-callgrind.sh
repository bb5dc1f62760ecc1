#!/usr/bin/env bash
# Instructions a call, counted by callgrind (exact, and the same on any machine of the kind),
# for the send_cost bench's kinds: plain reqwest + serde_json, the conversation API and the
# typed call, each alone in its own process (`SEND_COST_ONLY`), with no span subscriber
# (`SEND_COST_NO_SPANS=1`) and with the bench's subscriber.
#
#   crates/bench/send-cost-callgrind.sh              # both subscriber settings
#   SUBSCRIBER=off crates/bench/send-cost-callgrind.sh
#
# Each kind runs twice, with FEW and MANY calls; instructions a call is the difference of the two
# totals over the difference of the counts, so the set-up (runtime, clients, certificates, the
# server's start) cancels out. Counted: the calling thread, which runs the current-thread runtime
# and with it everything the client does (hyper's connection task included); the loopback
# server's threads are left out (callgrind's `--separate-threads`), as what the server spends
# reading a request is not the client's cost. The whole process's count is printed beside it.
# Needs valgrind.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
few=${FEW:-2000}
many=${MANY:-6000}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cd "$root"
bin=$(cargo bench --quiet -p aimlapi-bench --bench send_cost --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "send_cost" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total() { # kind, calls, extra env...: the calling thread's instructions, then the process's
  local kind=$1 calls=$2
  shift 2
  rm -f "$work"/out*
  env "$@" SEND_COST_ONLY="$kind" SEND_COST_CALLS="$calls" \
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/out" "$bin" \
    >/dev/null 2>"$work/log"
  # Thread 1 is the calling thread.
  echo "$(sed -n 's/^summary: //p' "$work/out-01") $(cat "$work"/out-* | sed -n 's/^summary: //p' | paste -sd+ | bc)"
}

settings=${SUBSCRIBER:-off on}
for sub in $settings; do
  extra=()
  [ "$sub" = off ] && extra=(SEND_COST_NO_SPANS=1)
  echo "span subscriber: $sub ($few and $many calls of each kind; instructions a call)"
  declare -A per all
  for kind in baseline conversation typed; do
    read -r a a_all <<<"$(total "$kind" "$few" "${extra[@]}")"
    read -r b b_all <<<"$(total "$kind" "$many" "${extra[@]}")"
    per[$kind]=$(echo "($b - $a) / ($many - $few)" | bc -l)
    all[$kind]=$(echo "($b_all - $a_all) / ($many - $few)" | bc -l)
  done
  printf '  %-13s %12s %8s   %14s %8s\n' kind "calling thread" ratio "whole process" ratio
  for kind in baseline conversation typed; do
    printf '  %-13s %10.1f k %7.3fx   %12.1f k %7.3fx\n' "$kind" \
      "$(echo "${per[$kind]} / 1000" | bc -l)" "$(echo "${per[$kind]} / ${per[baseline]}" | bc -l)" \
      "$(echo "${all[$kind]} / 1000" | bc -l)" "$(echo "${all[$kind]} / ${all[baseline]}" | bc -l)"
  done
  unset per all
done
