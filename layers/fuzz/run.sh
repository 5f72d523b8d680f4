#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (seconds per target: $1, default 60), seeded with the
# PyTorch fixtures and the regression corpus. Needs cargo-fuzz (installed here when missing);
# RUSTC_BOOTSTRAP lets the stable toolchain take the sanitizer flags cargo fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
regressions=../tests/fixtures/fuzz
for target in tensor_file torch_state_dict training_state; do
  mkdir -p "corpus/$target"
  cp ../tests/fixtures/torch/*.safetensors "corpus/$target/"
  cp "$regressions"/* "corpus/$target/" 2>/dev/null || true
  echo "== $target: ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
done
echo "no crash in any target; a crash input lands in layers/fuzz/artifacts/: fix it, then copy it to $regressions"
