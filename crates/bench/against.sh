#!/usr/bin/env bash
# The speed benchmarks at an earlier commit and now, in one run, rounds interleaved: the cost of
# one call (send_cost) and the two decoders (stream_decode, messages_decode). Each benchmark
# measures its own baseline in the same process and prints its ratios; this script runs the
# earlier commit's build and today's in turns, so the two sets of ratios meet the same load.
#
#   crates/bench/against.sh <earlier-commit> [rounds]
#
# BASE_TARGET and NOW_TARGET reuse target directories (release builds take minutes); by default
# each side builds into a directory of its own under a temporary one.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${1:?usage: against.sh <earlier-commit> [rounds]}
rounds=${2:-3}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --quiet --detach "$work/base" "$base"
base_target=${BASE_TARGET:-$work/target-base}
now_target=${NOW_TARGET:-$work/target-now}

run() { # checkout, target, bench, package
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench --quiet -p "$4" --bench "$3" 2>/dev/null)
}

for side in base now; do
  dir=$([ "$side" = base ] && echo "$work/base" || echo "$root")
  target=$([ "$side" = base ] && echo "$base_target" || echo "$now_target")
  (cd "$dir" && CARGO_TARGET_DIR="$target" cargo bench --quiet -p aimlapi-bench --bench send_cost --no-run &&
    CARGO_TARGET_DIR="$target" cargo bench --quiet -p aimlapi --bench stream_decode --bench messages_decode --no-run)
done

for r in $(seq 1 "$rounds"); do
  for bench in send_cost:aimlapi-bench stream_decode:aimlapi messages_decode:aimlapi; do
    name=${bench%%:*}
    package=${bench##*:}
    echo "== round $r, $name, earlier ($base)"
    run "$work/base" "$base_target" "$name" "$package"
    echo "== round $r, $name, now"
    run "$root" "$now_target" "$name" "$package"
  done
done
