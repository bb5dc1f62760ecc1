#!/usr/bin/env bash
# Clean debug build time of a minimal service: one that depends on `aimlapi` (the lean set
# `rustls-ring`, the default set, and on request sets that price one feature each) and the same
# service on async-openai 0.43 (`chat-completion` and `rustls`), each built from an empty target
# directory in the same run, so the ratios compare like with like.
#
#   crates/bench/build-cost.sh            # one round
#   ROUNDS=3 crates/bench/build-cost.sh   # rounds interleave the builds; the median is reported
#   BUILDS="ours-ring" crates/bench/build-cost.sh   # only some of ours (async-openai always)
#
# Every build runs with `--timings`: beside the times, the last round's report gives each build's
# CPU seconds summed over its units, its longest units, and our own crates' units.
#
# Dependencies are fetched before any build is timed (nothing is downloaded while timing). Each
# build uses every core cargo sees (`-j` unset), the default dev profile, and its own target dir.
# The ours services take the workspace's Cargo.lock, so they build the versions the project
# tests; async-openai's lock is resolved fresh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

service() { # name, dependency line, main.rs
  mkdir -p "$work/$1/src"
  cat >"$work/$1/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
$2
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
futures = "0.3"

[workspace]
EOF
  printf '%s\n' "$3" >"$work/$1/src/main.rs"
}

ours_main='use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = aimlapi::Client::from_env()?;
    // The front door, as a service writes it: one call, then the same question streamed.
    let done = client.chat("claude-3-5-haiku-latest").user("Hello").send().await?;
    println!("{}", done.text().unwrap_or_default());
    let mut text = client.chat("claude-3-5-haiku-latest").user("Hello").stream().await?.text();
    while let Some(piece) = text.next().await {
        print!("{}", piece?);
    }
    Ok(())
}'

theirs_main='use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = async_openai::Client::new();
    let request = CreateChatCompletionRequestArgs::default()
        .model("claude-3-5-haiku-latest")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("Hello")
            .build()?
            .into()])
        .build()?;
    let done = client.chat().create(request.clone()).await?;
    println!("{:?}", done.choices[0].message.content);
    let mut stream = client.chat().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        print!("{:?}", chunk?.choices.first().and_then(|c| c.delta.content.clone()));
    }
    Ok(())
}'

ext="$root/crates/aimlapi"
service ours-default "aimlapi = { path = \"$ext\" }" "$ours_main"
service ours-ring "aimlapi = { path = \"$ext\", default-features = false, features = [\"rustls-ring\"] }" "$ours_main"
service ours-ring-tools "aimlapi = { path = \"$ext\", default-features = false, features = [\"rustls-ring\", \"tools\"] }" "$ours_main"
service ours-default-builder "aimlapi = { path = \"$ext\", features = [\"builder\"] }" "$ours_main"
service ours-default-http2 "aimlapi = { path = \"$ext\", features = [\"http2\"] }" "$ours_main"
service ours-default-otel "aimlapi = { path = \"$ext\", features = [\"otel\"] }" "$ours_main"
service ours-aws-lc "aimlapi = { path = \"$ext\", default-features = false, features = [\"rustls-aws-lc\", \"tools\", \"derive\"] }" "$ours_main"
service ours-before "aimlapi = { path = \"$ext\", default-features = false, features = [\"rustls-aws-lc\", \"tools\", \"derive\", \"builder\"] }" "$ours_main"
service async-openai "async-openai = { version = \"=0.43.0\", default-features = false, features = [\"chat-completion\", \"rustls\"] }" "$theirs_main"
for n in ours-default ours-ring ours-ring-tools ours-default-builder ours-default-http2 ours-default-otel ours-aws-lc ours-before; do
  cp "$root/Cargo.lock" "$work/$n/Cargo.lock"
done

# BUILDS="ours-ring async-openai" limits a run to some of them (async-openai, the baseline, is
# always built).
# The acceptance set: the lean set, the default set, async-openai. The others price one feature
# each against the default (or, for ours-ring-tools, against the lean set): ours-default-builder,
# ours-default-http2, ours-default-otel; ours-aws-lc is the default with aws-lc-rs for ring;
# ours-before the default set until 2026-12-07 (aws-lc-rs, tools, derive, builder).
read -r -a names <<<"${BUILDS:-ours-ring ours-default async-openai}"
[[ " ${names[*]} " == *" async-openai "* ]] || names+=(async-openai)
for n in "${names[@]}"; do
  (cd "$work/$n" && cargo fetch --quiet)
done

declare -A times
for r in $(seq 1 "$rounds"); do
  for n in "${names[@]}"; do
    rm -rf "$work/target-$n"
    start=$(date +%s.%N)
    (cd "$work/$n" && CARGO_TARGET_DIR="$work/target-$n" cargo build --quiet --offline --timings 2>/dev/null)
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    times[$n]="${times[$n]:-} $t"
    printf 'round %d  %-17s %6.1f s\n' "$r" "$n" "$t"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
theirs=$(echo "${times[async-openai]}" | median)
echo
printf '%-17s %8s %10s\n' build "median s" "/ async-openai"
for n in "${names[@]}"; do
  m=$(echo "${times[$n]}" | median)
  printf '%-17s %8.1f %10.2f\n' "$n" "$m" "$(echo "$m / $theirs" | bc -l)"
done
echo "(rustc $(rustc --version | cut -d' ' -f2), $(nproc) cores, $rounds round(s))"

# What cargo --timings saw in the last round: CPU seconds over all units (build scripts run
# included), the longest units, and ours (aimlapi*) with their frontend and codegen parts.
echo
for n in "${names[@]}"; do
  report=$(ls -t "$work/target-$n"/cargo-timings/cargo-timing-*.html | head -n 1)
  python3 - "$n" "$report" <<'PY'
import json, re, sys
name, path = sys.argv[1], sys.argv[2]
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(path).read(), re.S).group(1))
def label(u):
    kind = u["target"].strip()
    return u["name"] + (f" ({kind})" if kind else "")
cpu = sum(u["duration"] for u in units)
end = max(u["start"] + u["duration"] for u in units)
top = sorted(units, key=lambda u: -u["duration"])[:6]
print(f"{name}: {len(units)} units, {cpu:.1f} s of CPU in {end:.1f} s")
print("  longest: " + ", ".join(f"{label(u)} {u['duration']:.1f}" for u in top))
ours = [u for u in units if u["name"].startswith("aimlapi")]
def parts(u):
    s = dict(u.get("sections") or [])
    return "".join(f" {k} {v['end'] - v['start']:.1f}" for k, v in s.items())
if ours:
    print("  ours: " + "; ".join(f"{label(u)} {u['duration']:.1f} s (from {u['start']:.1f} s;{parts(u)})" for u in ours))
PY
done
