# Quickstart: `make demo` and `make test` set up .venv when needed (idempotent).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU wheel of torch: a bare `torch` from PyPI would pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
# Reinstall when the project's metadata changes or files are added to a package folder
# (a strict editable install links files one by one).
PACKAGE_DIRS := features features/audio features/vision features/vision/assets models models/pretrained \
	pipelines pipelines/batch pipelines/cli pipelines/core pipelines/explain pipelines/hands pipelines/speech \
	pipelines/training configs configs/splits
INSTALL_INPUTS := pyproject.toml $(PACKAGE_DIRS) models/pretrained/*

.PHONY: venv demo test lint light-check model clean

venv: $(VENV)/.installed

$(VENV)/.installed: $(wildcard $(INSTALL_INPUTS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH_PIN)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,lm,dev,ray,parquet]' --config-settings editable_mode=strict
	touch $@

demo: venv
	$(BIN)/seqrec transcribe tests/data/samples --format jsonl

test: venv lint
	$(BIN)/python -m pytest

# ruff is pinned in the dev extra: one formatter and one set of rules for everyone and for CI.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The runtime a plain `pip install .` gives (no extras) in a venv of its own (scripts/check_light_install.sh
# says where): without torch, librosa, scipy or numba it still transcribes, labels gestures and runs batch
# jobs, and train and export say that they need torch. .venv has every extra, so `make test` cannot
# notice a runtime path that imports torch. Same interpreter and torch pin as .venv.
light-check:
	PYTHON=$(PYTHON) TORCH_PIN='$(TORCH_PIN)' bash scripts/check_light_install.sh

# Rebuild both speech models from ../shared/data: digits-commands (the default: data preparation,
# two training stages, evaluation on test), then commands with the synthetic corpus it generates (apt:
# espeak-ng flite festival and voices; two training stages, calibration on dev, evaluation on test).
model: venv
	$(BIN)/python scripts/build_digits_commands.py
	$(BIN)/python scripts/make_synthetic_speech.py
	$(BIN)/python scripts/make_synthetic_speech.py --out data/synthetic-carriers --per-word 0 --sequences 0 --oov 0 --carriers 2000
	$(BIN)/python scripts/build_commands.py

clean:
	rm -rf $(VENV) .pytest_cache
