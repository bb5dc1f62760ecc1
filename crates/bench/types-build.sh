#!/usr/bin/env bash
# Clean debug build of `aimlapi-types` at an earlier commit and now, interleaved in one run: the
# crate's own compile time (from `cargo build --timings`) and the number of generated types.
#
#   crates/bench/types-build.sh <earlier-commit> [rounds]
#
# Now is measured with the crate's default features (everything) and with none (what the lean
# feature set of `aimlapi` builds); the earlier commit with its defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${1:?usage: types-build.sh <earlier-commit> [rounds]}
rounds=${2:-3}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --quiet --detach "$work/base" "$base"

# The crate's own compile time, in seconds, from a timings report.
crate_time() {
  python3 - "$1" <<'EOF'
import json, re, sys
s = open(sys.argv[1]).read()
units = json.loads(re.search(r'const UNIT_DATA = (\[.*?\]);\n', s, re.S).group(1))
print(next(u['duration'] for u in units if u['name'] == 'aimlapi-types'))
EOF
}

types_in() {
  grep -c '^pub struct\|^pub enum' "$1/crates/types/src/generated.rs"
}

build() { # name, checkout, extra cargo args
  local t="$work/target-$1"
  rm -rf "$t"
  (cd "$2" && CARGO_TARGET_DIR="$t" cargo build --quiet -p aimlapi-types ${3:-} --timings)
  crate_time "$t/cargo-timings/cargo-timing.html"
}

echo "types: earlier $(types_in "$work/base"), now $(types_in "$root")"
for r in $(seq 1 "$rounds"); do
  printf 'round %d  earlier %5.2f s  now %5.2f s  now, no features %5.2f s\n' "$r" \
    "$(build base "$work/base")" "$(build now "$root")" \
    "$(build lean "$root" --no-default-features)"
done
