# rnnzoo's verbs. Two of them set a fresh machine up: `make reproduce` (the main job) and
# `make test`. Both need only the Rust toolchain.

CARGO ?= cargo
OUT ?= results
SEED ?= 0

.PHONY: test reproduce reproduce-full gradcheck bench doc lint fmt clean fuzz mutants

# With OpenMPI installed (mpicc and mpirun on PATH; `.ci/run` installs it) the program is built with
# its `mpi` feature, and the data-parallel tests (bench/tests/mpi.rs) run under mpirun.
MPI_FEATURES := $(if $(and $(shell command -v mpicc 2>/dev/null),$(shell command -v mpirun 2>/dev/null)),--features rnnzoo-bench/mpi)

## Every test of every crate: unit, integration, proptest gradient checks, PyTorch parity, doctests
## (and the MPI tests, when MPI is installed).
test:
	$(CARGO) test --workspace --exclude rnnzoo-criterion --locked $(MPI_FEATURES)

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
	$(CARGO) bench --locked -p rnnzoo-criterion

## rnnzoo against PyTorch, interleaved in one run: prints and writes BENCHMARKS.md (about 30
## minutes). PyTorch goes into $(VENV) by pip when missing: PyPI's only Linux wheel is the CUDA
## build, whose nvidia-* libraries (about 5 GB) it needs just to load, even on a CPU. If it cannot
## be had, the table says why and shows the design notes' PyTorch numbers instead.
VENV ?= .venv
.PHONY: bench-compare
bench-compare:
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import torch, numpy, safetensors" 2>/dev/null \
		|| $(VENV)/bin/pip install torch numpy safetensors \
		|| echo "bench-compare: pip install failed; PyTorch columns will be marked unavailable"
	$(CARGO) build --release --locked -p rnnzoo-bench
	python3 bench/compare/compare.py --rnnzoo target/release/rnnzoo --torch-python $(VENV)/bin/python $(COMPARE_ARGS)

## Whole training runs of `reproduce`'s recipes in rnnzoo and in PyTorch, seeds 0-4 on each side,
## two runs at a time (about 70 minutes): char-rnn's LSTM and GRU on Shakespeare, and the time to
## solve the adding problem. Writes results/recipes/results.json and BENCHMARKS.md's
## "Same recipe, both libraries" block. PyTorch as for bench-compare.
.PHONY: recipes-compare
recipes-compare:
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import torch, numpy, safetensors" 2>/dev/null \
		|| $(VENV)/bin/pip install torch numpy safetensors
	$(CARGO) build --release --locked -p rnnzoo-bench
	python3 bench/compare/recipes.py --rnnzoo target/release/rnnzoo --torch-python $(VENV)/bin/python $(RECIPES_ARGS)

## Every fuzz target for FUZZ_SECONDS each (installs cargo-fuzz when missing). Not part of `test`.
FUZZ_SECONDS ?= 60
fuzz:
	layers/fuzz/run.sh $(FUZZ_SECONDS)

## Mutation testing of the cells, the unroller, and the layers' training, composition, loss, head,
## optimizer, checkpoint and PyTorch code against the test suite (installs cargo-mutants when
## missing; several hours on two cores with MUTANTS_ARGS="-j 2"; narrow it with
## MUTANTS_FILES="--file 'layers/src/train/*.rs'"). Result: TESTING.md.
MUTANTS_FILES ?= --file 'cells/*/src/*.rs' --file 'layers/src/unroll/*.rs' \
	--file 'layers/src/train/*.rs' --file layers/src/model.rs --file layers/src/bidirectional.rs \
	--file layers/src/stack.rs --file 'layers/src/optim/*.rs' --file layers/src/loss.rs \
	--file layers/src/readout.rs --file layers/src/head.rs --file layers/src/checkpoint.rs \
	--file layers/src/torch.rs
mutants:
	command -v cargo-mutants >/dev/null 2>&1 || $(CARGO) install cargo-mutants --locked
	@mkdir -p target
	$(CARGO) mutants --workspace --profile mutants --timeout 300 \
		--test-package rnnzoo-cell --test-package rnnzoo-vanilla --test-package rnnzoo-lstm \
		--test-package rnnzoo-gru --test-package rnnzoo-layers --test-package rnnzoo \
		--cargo-test-arg=--lib --cargo-test-arg=--tests $(MUTANTS_ARGS) $(MUTANTS_FILES) \
		--exclude 'cells/*/src/tests.rs' --exclude 'layers/src/unroll/tests.rs' -o target/mutants

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## Formatting and clippy, warnings denied.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked $(MPI_FEATURES) -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(OUT)
