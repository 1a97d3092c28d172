# Fresh machine: `make demo` runs the main job, `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install test demo lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[baselines,crawl,dev,onnx,ray,test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

demo: install
	$(BIN)/luxembedder demo

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/lint-imports  # the layers contract in pyproject.toml [tool.importlinter]

clean:
	rm -rf $(VENV) runs build *.egg-info
