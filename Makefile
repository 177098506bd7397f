# fc-rust: `make local` runs sync-forks as FC would, offline; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup local test test-rust test-python lint fmt package bench bench-build bench-watch stress lifecycle clean \
	mutants mutants-diff mutants-tools

# Idempotent: re-installs Python packages only when pyproject.toml changes.
setup: $(VENV)/.installed
	@echo "setup: fetching the crates Cargo.lock pins (cargo fetch; quick once cached)"
	cargo fetch --locked --quiet

$(VENV)/.installed: pyproject.toml
	@echo "setup: creating $(VENV) and installing the Python packages (Pulumi SDKs, zig, cargo-zigbuild; a minute or so, once)"
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade 'pip>=25.1'
	$(PY) -m pip install --quiet --disable-pip-version-check --group dev -e .
	touch $@

local: setup
	$(PY) -m stack demo

test: setup lint test-rust test-python

test-rust:
	cargo test --workspace --locked
	cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
	cargo fmt --all --check

test-python:
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy infra tests stack __main__.py
	$(PY) -m mypy examples/__main__.py

fmt: setup
	cargo fmt --all
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# dist/<function>/bootstrap.zip and manifest.json for every function in functions/.
package: setup
	$(PY) -m infra.bootstrap package --all

# What each change a user makes does to the stack (tests/lifecycle_matrix.txt), rewritten.
lifecycle: setup
	FCRUST_WRITE_MATRIX=1 $(PY) -m pytest -q -s tests/test_lifecycle.py

# Sizes, preview cost, hello beside Go, Python and the seed's stack on bare cores and in FC's
# shape (cgroups with a function's vCPU quota and memory limit: needs root), and what a million
# invocations cost: bench/results.md, results.json, ratios.png (about 10 minutes once built).
# Installs Go and wrk from Debian if missing.
bench: setup
	command -v go >/dev/null && command -v wrk >/dev/null || { \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); $$sudo apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go wrk; }
	$(PY) -m pip install --quiet --disable-pip-version-check --group bench
	$(PY) -m bench

# Building N functions at once (N = 1, 8, 32): cold, unchanged, one file changed; about 20 minutes.
bench-build: setup
	$(PY) -m bench.build_scale

# serve --watch: from saving a change to the first answer of the new code, beside cargo's own
# incremental build of the same change (3 interleaved rounds; the first build is untimed).
bench-watch: setup
	$(PY) -m bench.watch

# The real packages under hostile load, on loopback (under 10 minutes); last line `lost: 0`.
stress: setup
	$(PY) -m bench.stress

# Mutation testing, never part of `make test`: cosmic-ray on infra/ (score and survivors in
# mutants/REPORT.md) and cargo-mutants on the Rust crates (target/mutants/rust/mutants.out).
# Hours on 2 cores; mutants-diff mutates only the lines changed since BASE (default: main's
# merge-base, or HEAD~1 on main) in minutes. See the README's "Mutation testing".
MUTANTS_RUN := nice -n 15
CARGO_MUTANTS := cargo mutants -j 1 --test-workspace=true --timeout 300 --build-timeout 900

mutants: setup mutants-tools
	$(MUTANTS_RUN) $(PY) -m mutants
	$(MUTANTS_RUN) $(CARGO_MUTANTS) --workspace -o target/mutants/rust

mutants-diff: setup mutants-tools
	base=$${BASE:-$$(git merge-base main HEAD)}; \
	[ "$$base" != "$$(git rev-parse HEAD)" ] || base=HEAD~1; \
	$(MUTANTS_RUN) $(PY) -m mutants --diff "$$base"; \
	mkdir -p target/mutants; git diff "$$base" -- crates functions > target/mutants/rust.diff; \
	if [ -s target/mutants/rust.diff ]; then \
	  $(MUTANTS_RUN) $(CARGO_MUTANTS) --workspace --in-diff target/mutants/rust.diff \
	    -o target/mutants/rust-diff; \
	else echo "no Rust change since $$base"; fi

mutants-tools:
	$(PY) -m pip install --quiet --disable-pip-version-check --group mutants
	command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants@27.1.0

clean:
	rm -rf dist target/fc-rust
