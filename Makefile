# make test        create/update .venv (torch==2.13.0 CPU first, then mhp[dev,export,coreml]) and run lint + tests
# make quickstart  create/update .venv, train LPSKI on built-in synthetic humans (~12 min on 2 CPU cores), evaluate
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
TORCH := torch==2.13.0
# onnx2tf's metadata pins an older TensorFlow/ONNX stack; installed alone it converts identically with ours.
ONNX2TF := onnx2tf==1.29.24

.PHONY: venv test lint format quickstart clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev,export,coreml]"
	$(BIN)/python -m pip install --quiet --no-deps $(ONNX2TF)
	@if $(BIN)/python -m pip list 2>/dev/null | grep -qi nvidia; then \
		echo "error: a CUDA (nvidia-*) package was installed into $(VENV); install $(TORCH) first"; exit 1; fi
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest

quickstart: $(STAMP)
	$(BIN)/python -m mhp.quickstart

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
