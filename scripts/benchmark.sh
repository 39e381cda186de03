#!/usr/bin/env bash
# Generates a pallet's weights.rs by running its benchmarks in the dev runtime on this machine.
#
#   ./scripts/benchmark.sh pallet_prices [more pallets...]
#
# Builds `liquidation-node` optimised (`--release`) with `--features runtime-benchmarks`, its
# runtime in the `production` profile (`WASM_BUILD_TYPE=production`: fat LTO, one codegen unit,
# what a chain ships), then runs `benchmark pallet` for each named pallet and writes
# `pallets/<name>/src/weights.rs` through scripts/weight-template.hbs. (The tests use a debug
# node; weights measured on one overstate the host's storage access several times over.)
#
# STEPS and REPEAT (environment) trade precision for time; the defaults are the usual 50 and 20.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  echo "usage: $0 PALLET [PALLET...]   (e.g. pallet_prices)" >&2
  exit 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/liquidation-engine/target}"
WASM_BUILD_TYPE=production cargo build --locked --release -p liquidation-node --features runtime-benchmarks
node="$CARGO_TARGET_DIR/release/liquidation-node"

for pallet in "$@"; do
  crate_dir="pallets/${pallet#pallet_}"
  if [ ! -d "$crate_dir/src" ]; then
    echo "no pallet crate at $crate_dir for $pallet" >&2
    exit 2
  fi
  "$node" benchmark pallet \
    --chain dev \
    --pallet "$pallet" \
    --extrinsic '*' \
    --steps "${STEPS:-50}" \
    --repeat "${REPEAT:-20}" \
    --template scripts/weight-template.hbs \
    --output "$crate_dir/src/weights.rs"
  echo "wrote $crate_dir/src/weights.rs"
done
