# rnnzoo's verbs. Two of them set a fresh machine up: `make reproduce` (the main job) and
# `make test`. Both need only the Rust toolchain.

CARGO ?= cargo
OUT ?= results
SEED ?= 0

.PHONY: test reproduce reproduce-full gradcheck bench doc lint fmt clean

## Every test of every crate: unit, integration, proptest gradient checks, PyTorch parity, doctests.
test:
	$(CARGO) test --workspace --locked

## The quick experiment suite: tables, JSON and plots in $(OUT)/.
reproduce:
	$(CARGO) run --release --locked -p rnnzoo-bench -- reproduce all --quick --seed $(SEED) --out $(OUT)

## Paper-scale settings (hours, not minutes).
reproduce-full:
	$(CARGO) run --release --locked -p rnnzoo-bench -- reproduce all --full --seed $(SEED) --out $(OUT)

## The gradient-check table of every cell.
gradcheck:
	$(CARGO) run --release --locked -p rnnzoo-bench -- reproduce gradcheck --seed $(SEED) --out $(OUT)

## Criterion benchmarks (regression tracking; not timed tests).
bench:
	$(CARGO) bench --locked -p rnnzoo-bench

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## Formatting and clippy, warnings denied.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(OUT)
